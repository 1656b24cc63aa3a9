import { defineNrMetric } from '../core/run';

export type SharpnessOptions = object;

/**
 * Variance of the Laplacian of the grey image, on a 0-255 scale (higher is sharper): what
 * `cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()` returns.
 */
export const sharpness = defineNrMetric<SharpnessOptions>('sharpness', () => ({}));
