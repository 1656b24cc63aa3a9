import { defineFrMapMetric } from './detail';

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
