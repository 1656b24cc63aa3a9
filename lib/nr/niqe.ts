import { join } from 'node:path';
import { packageRoot } from '../core/native';
import { defineNrMetric } from '../core/run';

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
