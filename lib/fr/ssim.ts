import { defineFrMapMetric } from './detail';
import type { MetricCard } from '../registry/card';

export interface SsimOptions {
  /** 'gray' (default): MATLAB rgb2gray luminance; 'rgb': each channel, score = their mean. */
  channels?: 'gray' | 'rgb';
  /**
   * The automatic downsampling of the reference ssim.m: f = max(1, round(min(H, W) / 256)), an
   * f x f average ('symmetric' borders) then every f-th pixel. Default false (the published
   * calibration values are without it).
   */
  downsample?: boolean;
  /** 'valid' (default, Wang et al.: map of (H-10) x (W-10)) or 'reflect101' (full-size map, as OpenCV quality). */
  border?: 'valid' | 'reflect101';
}

/**
 * SSIM (Wang et al. 2004) as the authors' ssim.m: 11x11 Gaussian window (sigma 1.5), K1 0.01,
 * K2 0.03, L 255; 1 for identical images. `.detail(ref, dist, { maps: true })` adds the map.
 */
export const ssim = defineFrMapMetric<SsimOptions>('ssim', (o) => ({ channels: o?.channels, downsample: o?.downsample, border: o?.border }));

/** The registry's model card. */
export const ssimCard: MetricCard = {
  name: 'ssim',
  kind: 'fr',
  title: 'SSIM (Wang et al. 2004)',
  direction: 'higher',
  range: [-1, 1],
  reference: {
    paper: 'Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, Image Quality Assessment: From Error Visibility to Structural Similarity, IEEE TIP 13(4), 2004',
    checkedAgainst: 'the ssim row of results_official.csv (5e-5); OpenCV cv::quality::QualitySSIM (1e-9)',
  },
  licence: 'Apache-2.0 (code)',
  commercialUse: true,
  options: {
    channels: { type: 'string', enum: ['gray', 'rgb'], default: 'gray', description: "'gray': MATLAB rgb2gray; 'rgb': mean over channels" },
    downsample: { type: 'boolean', default: false, description: "ssim.m's automatic downsampling by max(1, round(min(H, W) / 256))" },
    border: { type: 'string', enum: ['valid', 'reflect101'], default: 'valid', description: "'valid': (H-10)x(W-10) map as ssim.m; 'reflect101': full-size map as OpenCV quality" },
  },
};
