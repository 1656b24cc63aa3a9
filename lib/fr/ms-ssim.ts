import { defineFrMapMetric } from './detail';

export interface MsSsimOptions {
  /** 'gray' (default): MATLAB rgb2gray luminance; 'rgb': each channel, score = their mean. */
  channels?: 'gray' | 'rgb';
  /**
   * 'product' (default, the paper's pooling; negative contrast terms clamp to 0) or 'wtd_sum'
   * (msssim.m's normalised weighted sum, which is what the published calibration values use).
   */
  method?: 'product' | 'wtd_sum';
}

/**
 * MS-SSIM (Wang et al. 2003) as the authors' msssim.m: 5 scales, exponents
 * 0.0448 0.2856 0.3001 0.2363 0.1333, 2x2 average + subsampling between scales.
 * Needs images of at least 176x176 pixels.
 */
export const msssim = defineFrMapMetric<MsSsimOptions>('ms-ssim', (o) => ({ channels: o?.channels, method: o?.method }));
