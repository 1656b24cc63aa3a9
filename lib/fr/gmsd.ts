import { defineFrMapMetric } from './detail';
import type { MetricCard } from '../registry/card';

export interface GmsdOptions {
  /** 'gray' (default): MATLAB rgb2gray luminance; 'rgb': each channel, score = their mean. */
  channels?: 'gray' | 'rgb';
}

/**
 * GMSD (Xue et al. 2014) as the authors' GMSD.m: 2x2 average + subsampling, Prewitt gradients,
 * T = 170, standard deviation (N-1) of the similarity map. Lower is better; 0 for identical images.
 */
export const gmsd = defineFrMapMetric<GmsdOptions>('gmsd', (o) => ({ channels: o?.channels }));

/** The registry's model card. */
export const gmsdCard: MetricCard = {
  name: 'gmsd',
  kind: 'fr',
  title: 'GMSD (Xue et al. 2014)',
  direction: 'lower',
  range: null,
  reference: {
    paper: 'W. Xue, L. Zhang, X. Mou, A. C. Bovik, Gradient Magnitude Similarity Deviation, IEEE TIP 23(2), 2014',
    checkedAgainst: "the gmsd row of results_official.csv (the authors' GMSD.m, 1e-9); OpenCV cv::quality::QualityGMSD",
  },
  licence: 'Apache-2.0 (code)',
  commercialUse: true,
  options: {
    channels: { type: 'string', enum: ['gray', 'rgb'], default: 'gray', description: "'gray': MATLAB rgb2gray; 'rgb': mean over channels" },
  },
};
