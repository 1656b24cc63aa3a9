import { defineNrMetric } from '../core/run';
import type { MetricCard } from '../registry/card';

export type SharpnessOptions = object;

/**
 * Variance of the Laplacian of the grey image, on a 0-255 scale (higher is sharper): what
 * `cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()` returns.
 */
export const sharpness = defineNrMetric<SharpnessOptions>('sharpness', () => ({}));

/** The registry's model card. */
export const sharpnessCard: MetricCard = {
  name: 'sharpness',
  kind: 'nr',
  title: 'Variance of the Laplacian (sharpness)',
  direction: 'higher',
  range: null,
  reference: { paper: 'J. L. Pech-Pacheco et al., Diatom autofocusing in brightfield microscopy: a comparative study, ICPR 2000', checkedAgainst: 'OpenCV: cv2.Laplacian(gray, CV_64F).var()' },
  licence: 'Apache-2.0 (code)',
  commercialUse: true,
  options: {},
};
