// A deep model as a metric function: fn(img, { model, ...loadOptions }) loads the manifest once
// per (manifest, load options) and scores through Model. Every deep no-reference model of the
// registry is one of these; hyperiqa.ts is the first.
import { IqaError } from '../core/errors';
import type { ImageInput } from '../core/input';
import { limitable, splitCallOptions, type CallOptions, type FrMetricFunction, type NrMetricFunction, type SettledBatch } from '../core/run';
import { Model, type ModelDetail, type ModelLoadOptions } from './model';

export interface DeepMetricOptions extends ModelLoadOptions {
  /** Manifest path, or a model name looked up in the model directories (default: the metric's own). */
  model?: string;
}

export interface DeepNrMetric<O extends DeepMetricOptions = DeepMetricOptions> extends NrMetricFunction<O> {
  /** The shared Model for these options (loaded on first use, then reused). */
  model(o?: O): Promise<Model>;
  /** The score with the model's named extra outputs (Model.detail). */
  detail(img: ImageInput, o?: O & CallOptions): Promise<ModelDetail>;
}

/** The shared Models of one metric, one per (manifest, load options), and the per-call options. */
function sharedModels<O extends DeepMetricOptions>(defaultManifest: string) {
  const models = new Map<string, Promise<Model>>();
  const split = (o: (O & CallOptions) | undefined) => {
    // maxInFlight/maxQueued are load options (the shared Model's own Limiter); `limiter` is per call.
    const { model, ...options } = (o ?? {}) as O & CallOptions;
    const { call, rest: load } = splitCallOptions(options);
    const manifest = model ?? defaultManifest;
    return { key: JSON.stringify([manifest, load]), manifest, load: load as ModelLoadOptions, call };
  };
  const modelFor = (o?: O): Promise<Model> => {
    const { key, manifest, load } = split(o);
    let m = models.get(key);
    if (!m) {
      // A failed load is not cached: the files may appear (iqa models import) while the process runs.
      m = Model.load(manifest, load).catch((e: unknown) => {
        models.delete(key);
        throw e;
      });
      models.set(key, m);
    }
    return m;
  };
  return { modelFor, call: (o?: O & CallOptions) => split(o).call };
}

/** A no-reference metric function over the model `defaultManifest` (a name or a path). */
export function deepNrMetric<O extends DeepMetricOptions = DeepMetricOptions>(metricName: string, defaultManifest: string): DeepNrMetric<O> {
  const { modelFor, call } = sharedModels<O>(defaultManifest);
  const batchSettled = async (imgs: readonly ImageInput[], o?: O & CallOptions): Promise<SettledBatch> => {
    if (!Array.isArray(imgs)) throw new IqaError('ERR_INPUT', `${metricName}.batch takes an array of images`);
    return (await modelFor(o)).scoreManySettled(imgs, call(o));
  };
  const fn = Object.assign(async (img: ImageInput, o?: O & CallOptions) => (await modelFor(o)).score(img, call(o)), {
    batch: async (imgs: readonly ImageInput[], o?: O & CallOptions) => (await batchSettled(imgs, o)).scores,
    batchSettled,
    metricName,
    model: modelFor,
    detail: async (img: ImageInput, o?: O & CallOptions) => (await modelFor(o)).detail(img, call(o)),
  });
  return limitable(fn, 1) as unknown as DeepNrMetric<O>;
}

export interface DeepFrMetric<O extends DeepMetricOptions = DeepMetricOptions> extends FrMetricFunction<O> {
  model(o?: O): Promise<Model>;
}

/** A full-reference metric function fn(ref, dist) over a model of task 'fr-iqa'. */
export function deepFrMetric<O extends DeepMetricOptions = DeepMetricOptions>(metricName: string, defaultManifest: string): DeepFrMetric<O> {
  const { modelFor, call } = sharedModels<O>(defaultManifest);
  type Pairs = readonly (readonly [ImageInput, ImageInput])[];
  const batchSettled = async (pairs: Pairs, o?: O & CallOptions): Promise<SettledBatch> => {
    if (!Array.isArray(pairs)) throw new IqaError('ERR_INPUT', `${metricName}.batch takes an array of [reference, distorted] pairs`);
    return (await modelFor(o)).scorePairsSettled(pairs, call(o));
  };
  const fn = Object.assign(async (ref: ImageInput, dist: ImageInput, o?: O & CallOptions) => (await modelFor(o)).scorePair(ref, dist, call(o)), {
    batch: async (pairs: Pairs, o?: O & CallOptions) => (await batchSettled(pairs, o)).scores,
    batchSettled,
    metricName,
    model: modelFor,
  });
  return limitable(fn, 2) as unknown as DeepFrMetric<O>;
}
