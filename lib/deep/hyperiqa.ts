// HyperIQA (Su et al., CVPR 2020) as a metric function over the manifest 'hyperiqa-koniq'
// (made by tools/export/export_hyperiqa.py; see docs/hyperiqa.md and models/zoo/hyperiqa.json).
import type { Model } from './model';
import { deepNrMetric, type DeepMetricOptions } from './deep-metric';

export type HyperIqaOptions = DeepMetricOptions;

export const DEFAULT_HYPERIQA_MODEL = 'hyperiqa-koniq';

export const hyperiqa = deepNrMetric<HyperIqaOptions>('hyperiqa', DEFAULT_HYPERIQA_MODEL);

/** The shared Model for these options (loaded on first use). */
export function hyperiqaModel(o?: HyperIqaOptions): Promise<Model> {
  return hyperiqa.model(o);
}
