import { defineFrMetric } from './run';

export interface PsnrOptions {
  /** 'rgb' (default): MSE over all colour channels; 'gray': over MATLAB rgb2gray luminance. */
  channels?: 'rgb' | 'gray';
}

/** Peak signal-to-noise ratio in dB on a 0-255 scale; identical images give Infinity. */
export const psnr = defineFrMetric<PsnrOptions>('psnr', (o) => ({ channels: o?.channels }));
