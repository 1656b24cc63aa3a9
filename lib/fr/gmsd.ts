import { defineFrMapMetric } from './detail';

export interface GmsdOptions {
  /** 'gray' (default): MATLAB rgb2gray luminance; 'rgb': each channel, score = their mean. */
  channels?: 'gray' | 'rgb';
}

/**
 * GMSD (Xue et al. 2014) as the authors' GMSD.m: 2x2 average + subsampling, Prewitt gradients,
 * T = 170, standard deviation (N-1) of the similarity map. Lower is better; 0 for identical images.
 */
export const gmsd = defineFrMapMetric<GmsdOptions>('gmsd', (o) => ({ channels: o?.channels }));
