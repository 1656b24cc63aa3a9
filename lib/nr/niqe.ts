import { join } from 'node:path';
import { packageRoot } from '../core/native';
import { defineNrMetric } from '../core/run';
import type { MetricCard } from '../registry/card';

export interface NiqeOptions {
  /**
   * Pristine model file: the original release's model as .npz (mu_pris_param/cov_pris_param)
   * or MATLAB .mat (mu_prisparam/cov_prisparam), or a JSON model written by `iqa train niqe`.
   * Default: the model this project fits from freely licensed photographs (models/niqe-default.md).
   */
  model?: string;
}

/** The pristine model shipped with the package (see models/niqe-default.md). */
export function defaultNiqeModelPath(): string {
  return join(packageRoot(), 'models', 'niqe-default.json');
}

/**
 * NIQE (Mittal et al. 2013), as the authors' MATLAB release computes it: lower is better.
 * Images need at least one 96x96 block.
 */
export const niqe = defineNrMetric<NiqeOptions>('niqe', (o) => ({ model: o?.model ?? defaultNiqeModelPath() }));

/** The registry's model card. */
export const niqeCard: MetricCard = {
  name: 'niqe',
  kind: 'nr',
  title: 'NIQE (Mittal, Soundararajan, Bovik 2013)',
  direction: 'lower',
  range: null,
  reference: {
    paper: "A. Mittal, R. Soundararajan, A. C. Bovik, Making a 'Completely Blind' Image Quality Analyzer, IEEE SPL 20(3), 2013",
    checkedAgainst: "the original MATLAB release's values in results_official.csv with its pristine model (docs/niqe.md); pyiqa's features",
  },
  licence: 'Apache-2.0 (code); default pristine model fitted by the project from CC0/CC-BY photographs (models/niqe-default.md)',
  commercialUse: true,
  options: {
    model: { type: 'string', description: "pristine model: the release's .npz/.mat or a JSON model from iqa train niqe (default: models/niqe-default.json)" },
  },
};
