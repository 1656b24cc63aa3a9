// The one path from a typed call to the addon: admission, input normalisation, metric handles,
// abort wiring and error mapping. Metric modules (sharpness.ts, psnr.ts, ...) are built from it.
import { admit, Limiter, type AdmissionOptions } from './admission';
import { decodeOptions, type DecodeOptions } from './config';
import { abortedError, IqaError, toIqaError } from './errors';
import { toNativeInput, type ImageInput, type NativeInput } from './input';
import { native, type NativeBatchResult } from './native';

export interface CallOptions extends DecodeOptions {
  /** Aborting rejects the call with ERR_ABORTED at once; native work stops at the next image. */
  signal?: AbortSignal;
  /**
   * Admission budget the call goes through (see Limiter): it waits for a slot, keeping `signal`
   * (a call aborted while it waits leaves the queue without running; AbortSignal.timeout(ms) is
   * a deadline that counts the wait), or is rejected at once with ERR_BUSY, before its input is read.
   */
  limiter?: Limiter;
}

/** The per-call options (CallOptions: signal, decode options, limiter) apart from the rest. */
export function splitCallOptions<T extends CallOptions>(o: T): { call: CallOptions; rest: Omit<T, keyof CallOptions> } {
  const { signal, limitInputPixels, autoOrient, failOn, limiter, ...rest } = o;
  return { call: { signal, limitInputPixels, autoOrient, failOn, limiter }, rest };
}

/** Per-item outcome of a batch: scores[i] is NaN where errors[i] is set. */
export interface SettledBatch {
  scores: Float64Array;
  errors: (IqaError | null)[];
}

export type NativeOptions = Record<string, number | string | boolean | undefined>;

const handles = new Map<string, unknown>();
const MAX_HANDLES = 64;

export function handleFor(kind: 'nr' | 'fr', name: string, options: NativeOptions): unknown {
  const clean: Record<string, number | string | boolean> = {};
  for (const k of Object.keys(options).sort()) if (options[k] !== undefined) clean[k] = options[k] as number | string | boolean;
  const key = `${kind}:${name}:${JSON.stringify(clean)}`;
  let h = handles.get(key);
  if (h === undefined) {
    try {
      h = kind === 'nr' ? native().createNr(name, clean) : native().createFr(name, clean);
    } catch (e) {
      throw toIqaError(e);
    }
    if (handles.size >= MAX_HANDLES) handles.delete(handles.keys().next().value as string);
    handles.set(key, h);
  }
  return h;
}

/** Runs a native call with an abort flag wired to `signal`. */
export function withAbort<T>(signal: AbortSignal | undefined, start: (flag: unknown) => Promise<T>): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortedError());
  const n = native();
  const flag = signal ? n.createAbortFlag() : undefined;
  const work = start(flag).catch((e: unknown) => {
    throw toIqaError(e);
  });
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      n.triggerAbort(flag);
      reject(abortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Normalises a batch's inputs; the ones that fail are set aside with their error. */
export function normalize(inputs: readonly ImageInput[]): { natives: NativeInput[]; bad: Map<number, IqaError> } {
  const natives: NativeInput[] = [];
  const bad = new Map<number, IqaError>();
  inputs.forEach((input, i) => {
    try {
      natives.push(toNativeInput(input));
    } catch (e) {
      bad.set(i, toIqaError(e));
      // A placeholder the addon rejects without touching the disk; its error is replaced below.
      natives.push({ path: '' });
    }
  });
  return { natives, bad };
}

/** Per-item IqaErrors: an input-normalisation error wins, then the native one, each naming its input. */
export function settleErrors(native: readonly (object | null)[], inputs: readonly ImageInput[], bad: Map<number, IqaError>): (IqaError | null)[] {
  return native.map((e, i) => {
    const pre = bad.get(i);
    if (pre) return pre;
    if (!e) return null;
    const err = toIqaError(e);
    err.input = typeof inputs[i] === 'string' ? (inputs[i] as string) : i;
    return err;
  });
}

/** Merges input-normalisation errors and native per-item errors into one settled batch. */
export function settle(result: NativeBatchResult, inputs: readonly ImageInput[], bad: Map<number, IqaError>): SettledBatch {
  const errors = settleErrors(result.errors, inputs, bad);
  for (const i of bad.keys()) result.scores[i] = NaN;
  return { scores: result.scores, errors };
}

/** Admission, then abort wiring: what every native scoring call goes through. */
export function admitted<T>(call: CallOptions | undefined, start: (flag: unknown) => Promise<T>): Promise<T> {
  return admit(call?.limiter, call?.signal, () => withAbort(call?.signal, start));
}

export function runNr(name: string, options: NativeOptions, inputs: readonly ImageInput[], call: CallOptions | undefined, mode: 'score' | 'features' = 'score') {
  return admitted(call, async (flag) => {
    const handle = handleFor('nr', name, options);
    const { natives, bad } = normalize(inputs);
    const result = await native().scoreNr(handle, natives, decodeOptions(call), mode, flag);
    return { ...settle(result, inputs, bad), values: result.values };
  });
}

export function runFr(name: string, options: NativeOptions, refs: readonly ImageInput[], dists: readonly ImageInput[], call: CallOptions | undefined) {
  return admitted(call, async (flag) => {
    if (refs.length !== dists.length) throw new IqaError('ERR_INPUT', 'references and distorted images differ in count');
    const handle = handleFor('fr', name, options);
    const r = normalize(refs);
    const d = normalize(dists);
    for (const [i, e] of d.bad) if (!r.bad.has(i)) r.bad.set(i, e);
    const result = await native().scoreFr(handle, r.natives, d.natives, decodeOptions(call), flag);
    return settle(result, dists, r.bad);
  });
}

function firstOrThrow(s: SettledBatch): number {
  const e = s.errors[0];
  if (e) throw e;
  return s.scores[0];
}

function scoresOf(s: SettledBatch): Float64Array {
  return s.scores;
}

export interface NrMetricFunction<O> {
  (img: ImageInput, opts?: O & CallOptions): Promise<number>;
  /** Scores many images in parallel in native code; failed items are NaN (see batchSettled). */
  batch(imgs: readonly ImageInput[], opts?: O & CallOptions): Promise<Float64Array>;
  /** Like batch, with the per-item IqaError (or null) beside each score. */
  batchSettled(imgs: readonly ImageInput[], opts?: O & CallOptions): Promise<SettledBatch>;
  readonly metricName: string;
  /** This metric under admission limits (see Limits). */
  limited(limits: Limits): NrMetricFunction<O>;
  /** The Limiter of a limited() metric. */
  readonly limiter?: Limiter;
}

export interface FrMetricFunction<O> {
  (ref: ImageInput, dist: ImageInput, opts?: O & CallOptions): Promise<number>;
  batch(pairs: readonly (readonly [ImageInput, ImageInput])[], opts?: O & CallOptions): Promise<Float64Array>;
  batchSettled(pairs: readonly (readonly [ImageInput, ImageInput])[], opts?: O & CallOptions): Promise<SettledBatch>;
  readonly metricName: string;
  limited(limits: Limits): FrMetricFunction<O>;
  readonly limiter?: Limiter;
}

/**
 * `metric.limited(limits)`: the same metric with every call (fn, batch, batchSettled, ...) admitted
 * through one Limiter: a new one from `{ maxInFlight, maxQueued }`, or the Limiter given, shared
 * with whatever else uses it. A call's own `limiter` option takes precedence.
 */
export type Limits = AdmissionOptions | Limiter;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callable = (...args: any[]) => Promise<unknown>;
interface MetricShape extends Callable {
  batch: Callable;
  batchSettled: Callable;
  readonly metricName: string;
}

/** Adds limited() to a metric function whose own call takes its options at argument `optsIndex`. */
export function limitable<F extends MetricShape>(fn: F, optsIndex: number): F {
  const limited = (limits: Limits): F => {
    const limiter = limits instanceof Limiter ? limits : new Limiter(limits);
    const withLimiter =
      (f: Callable, i: number): Callable =>
      (...args: unknown[]) => {
        const o = args[i] as CallOptions | undefined;
        if (o?.limiter === undefined) {
          args = [...args];
          args[i] = { ...o, limiter };
        }
        return f(...args);
      };
    // The three scoring calls only: extras (brisque.features, ssim.detail) take the `limiter`
    // option per call.
    const wrapped = Object.assign(withLimiter(fn, optsIndex), {
      batch: withLimiter(fn.batch, 1),
      batchSettled: withLimiter(fn.batchSettled, 1),
      metricName: fn.metricName,
      limiter,
    });
    return limitable(wrapped as unknown as F, optsIndex);
  };
  return Object.assign(fn, { limited });
}

export function defineNrMetric<O extends object>(name: string, toNative: (o: O | undefined) => NativeOptions): NrMetricFunction<O> {
  const fn = (img: ImageInput, opts?: O & CallOptions) => runNr(name, toNative(opts), [img], opts).then(firstOrThrow);
  const batchSettled = (imgs: readonly ImageInput[], opts?: O & CallOptions) =>
    runNr(name, toNative(opts), imgs, opts).then(({ scores, errors }) => ({ scores, errors }));
  return limitable(
    Object.assign(fn, {
      batch: (imgs: readonly ImageInput[], opts?: O & CallOptions) => batchSettled(imgs, opts).then(scoresOf),
      batchSettled,
      metricName: name,
    }),
    1,
  ) as NrMetricFunction<O>;
}

export function defineFrMetric<O extends object>(name: string, toNative: (o: O | undefined) => NativeOptions): FrMetricFunction<O> {
  const fn = (ref: ImageInput, dist: ImageInput, opts?: O & CallOptions) => runFr(name, toNative(opts), [ref], [dist], opts).then(firstOrThrow);
  const batchSettled = (pairs: readonly (readonly [ImageInput, ImageInput])[], opts?: O & CallOptions) =>
    runFr(name, toNative(opts), pairs.map((p) => p[0]), pairs.map((p) => p[1]), opts);
  return limitable(
    Object.assign(fn, {
      batch: (pairs: readonly (readonly [ImageInput, ImageInput])[], opts?: O & CallOptions) => batchSettled(pairs, opts).then(scoresOf),
      batchSettled,
      metricName: name,
    }),
    2,
  ) as FrMetricFunction<O>;
}
