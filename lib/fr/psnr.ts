import { defineFrMetric } from '../core/run';

export interface PsnrOptions {
  /** 'rgb' (default): MSE over all colour channels; 'gray': over MATLAB rgb2gray luminance. */
  channels?: 'rgb' | 'gray';
}

/**
 * Peak signal-to-noise ratio in dB on a 0-255 scale; identical images give Infinity. The default
 * ('rgb', the MSE pooled over R, G and B) is the definition of the published calibration values
 * (results_official.csv `psnr` row: I03 21.11 dB); the grey PSNR gives e.g. 52.3 dB on I04 where
 * the row has 20.99.
 */
export const psnr = defineFrMetric<PsnrOptions>('psnr', (o) => ({ channels: o?.channels }));
