import { defineFrMapMetric } from './detail';
import type { MetricCard } from '../registry/card';

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

/** The registry's model card. */
export const msssimCard: MetricCard = {
  name: 'ms-ssim',
  kind: 'fr',
  title: 'MS-SSIM (Wang, Simoncelli, Bovik 2003)',
  direction: 'higher',
  range: [0, 1],
  reference: {
    paper: 'Z. Wang, E. P. Simoncelli, A. C. Bovik, Multi-scale structural similarity for image quality assessment, Asilomar 2003',
    checkedAgainst: "the ms_ssim row of results_official.csv with method 'wtd_sum' (to its 4 printed decimals); pyiqa",
  },
  licence: 'Apache-2.0 (code)',
  commercialUse: true,
  options: {
    channels: { type: 'string', enum: ['gray', 'rgb'], default: 'gray', description: "'gray': MATLAB rgb2gray; 'rgb': mean over channels" },
    method: { type: 'string', enum: ['product', 'wtd_sum'], default: 'product', description: "'product': the paper's pooling; 'wtd_sum': msssim.m's weighted sum (what the official row used)" },
  },
};
