// HyperIQA (Su et al., CVPR 2020) as a metric function: hyperiqa(img, { model }) loads the
// manifest once per (manifest, options) and scores through Model. For the CLI registry.
import { IqaError } from '../core/errors';
import { Model, type ModelLoadOptions } from './model';
import type { CallOptions, NrMetricFunction, SettledBatch } from '../core/run';

export interface HyperIqaOptions extends ModelLoadOptions {
  /** Manifest path or name in models/ (default 'hyperiqa-koniq', made by tools/export/export_hyperiqa.py). */
  model?: string;
}

export const DEFAULT_HYPERIQA_MODEL = 'hyperiqa-koniq';
const models = new Map<string, Promise<Model>>();

function split(o: (HyperIqaOptions & CallOptions) | undefined): { key: string; manifest: string; load: ModelLoadOptions; call: CallOptions } {
  const { model, signal, limitInputPixels, ...load } = o ?? {};
  const manifest = model ?? DEFAULT_HYPERIQA_MODEL;
  return { key: JSON.stringify([manifest, load]), manifest, load, call: { signal, limitInputPixels } };
}

/** The shared Model for these options (loaded on first use). */
export function hyperiqaModel(o?: HyperIqaOptions): Promise<Model> {
  const { key, manifest, load } = split(o);
  let m = models.get(key);
  if (!m) {
    m = Model.load(manifest, load).catch((e: unknown) => {
      models.delete(key);
      if (e instanceof IqaError && e.code === 'ERR_MODEL' && manifest === DEFAULT_HYPERIQA_MODEL && /not found/.test(e.message))
        throw new IqaError('ERR_MODEL', `${e.message}\nHyperIQA weights are not bundled: export them with tools/export/export_hyperiqa.py (see docs/hyperiqa.md) and pass --model PATH/TO/MANIFEST.json`);
      throw e;
    });
    models.set(key, m);
  }
  return m;
}

async function batchSettled(imgs: readonly unknown[], o?: HyperIqaOptions & CallOptions): Promise<SettledBatch> {
  const model = await hyperiqaModel(o);
  return model.scoreManySettled(imgs as Iterable<never>, split(o).call);
}

export const hyperiqa: NrMetricFunction<HyperIqaOptions> = Object.assign(
  async (img: Parameters<Model['score']>[0], o?: HyperIqaOptions & CallOptions) => (await hyperiqaModel(o)).score(img, split(o).call),
  {
    batch: async (imgs: readonly Parameters<Model['score']>[0][], o?: HyperIqaOptions & CallOptions) => (await batchSettled(imgs, o)).scores,
    batchSettled: (imgs: readonly Parameters<Model['score']>[0][], o?: HyperIqaOptions & CallOptions) => batchSettled(imgs, o),
    metricName: 'hyperiqa',
  },
);
