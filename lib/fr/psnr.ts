import { defineFrMetric } from '../core/run';
import type { MetricCard } from '../registry/card';

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

/** The registry's model card. */
export const psnrCard: MetricCard = {
  name: 'psnr',
  kind: 'fr',
  title: 'PSNR',
  direction: 'higher',
  range: null,
  reference: { paper: 'peak signal-to-noise ratio, 10 log10(255^2 / MSE)', checkedAgainst: 'the psnr row of results_official.csv; OpenCV cv::quality::QualityPSNR' },
  licence: 'Apache-2.0 (code)',
  commercialUse: true,
  options: {
    channels: { type: 'string', enum: ['rgb', 'gray'], default: 'rgb', description: "'rgb': MSE over R, G, B (the official row); 'gray': over MATLAB rgb2gray luminance" },
  },
};
