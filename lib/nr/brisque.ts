import { runNr, defineNrMetric, type CallOptions, type NrMetricFunction } from '../core/run';
import type { ImageInput } from '../core/input';
import type { MetricCard } from '../registry/card';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/native';

export interface BrisqueOptions {
  /**
   * 'opencv' (default): numerically what OpenCV's cv::quality::QualityBRISQUE computes (grey
   * [0,1] float, zero-filled neighbours, cv::resize, output clamped to [0,100]).
   * 'original': the authors' MATLAB release (MATLAB rgb2gray, 0-255, circshift, bicubic
   * imresize with antialiasing, svm-scale + libsvm); needs `model` and `range`.
   */
  variant?: 'opencv' | 'original';
  /** SVR model file: libsvm text (e.g. the release's `allmodel`, `iqa train brisque` output) or an OpenCV ml YAML. Default: OpenCV's LIVE model (/usr/share/opencv4/quality/brisque_model_live.yml). */
  model?: string;
  /** Feature range file: svm-scale text (`allrange`, MODEL.range) or OpenCV's range YAML. Default: MODEL.range, else OpenCV's LIVE range. */
  range?: string;
}

/**
 * OpenCV's LIVE model and range as the packed package carries them (models/opencv/, copied by
 * scripts/pack-models.sh at pack time), so the default metric works without Debian's opencv-data;
 * null in a source checkout, where the native default (/usr/share/opencv4/quality/) applies.
 */
export function packagedBrisqueModel(root: string = packageRoot()): { model: string; range: string } | null {
  const model = join(root, 'models', 'opencv', 'brisque_model_live.yml');
  const range = join(root, 'models', 'opencv', 'brisque_range_live.yml');
  return existsSync(model) && existsSync(range) ? { model, range } : null;
}

let packaged: { model: string; range: string } | null | undefined;
const toNative = (o: BrisqueOptions | undefined) => {
  if (o?.model === undefined && o?.range === undefined && o?.variant !== 'original') {
    packaged ??= packagedBrisqueModel();
    if (packaged) return { variant: o?.variant, model: packaged.model, range: packaged.range };
  }
  return { variant: o?.variant, model: o?.model, range: o?.range };
};

export interface BrisqueFunction extends NrMetricFunction<BrisqueOptions> {
  /** The 36 BRISQUE features of the chosen variant (before range scaling). */
  features(img: ImageInput, opts?: BrisqueOptions & CallOptions): Promise<Float64Array>;
  /** Features of many images; a failed item rejects the whole call with its IqaError. */
  featuresBatch(imgs: readonly ImageInput[], opts?: BrisqueOptions & CallOptions): Promise<Float64Array[]>;
}

async function featuresBatch(imgs: readonly ImageInput[], opts?: BrisqueOptions & CallOptions): Promise<Float64Array[]> {
  const r = await runNr('brisque', toNative(opts), imgs, opts, 'features');
  return r.values.map((v, i) => {
    const e = r.errors[i];
    if (e) throw e;
    return v as Float64Array;
  });
}

/**
 * BRISQUE blind image quality (Mittal, Moorthy, Bovik 2012): 0 is best for the LIVE models.
 * Flat images, whose local statistics are degenerate, reject with ERR_INPUT; images under
 * 14x14 pixels reject with ERR_INPUT.
 */
export const brisque: BrisqueFunction = Object.assign(defineNrMetric<BrisqueOptions>('brisque', toNative), {
  features: (img: ImageInput, opts?: BrisqueOptions & CallOptions) => featuresBatch([img], opts).then((v) => v[0]),
  featuresBatch,
});

/** The registry's model card. */
export const brisqueCard: MetricCard = {
  name: 'brisque',
  kind: 'nr',
  title: 'BRISQUE (Mittal, Moorthy, Bovik 2012)',
  direction: 'lower',
  range: [0, 100],
  reference: {
    paper: 'A. Mittal, A. K. Moorthy, A. C. Bovik, No-Reference Image Quality Assessment in the Spatial Domain, IEEE TIP 21(12), 2012',
    checkedAgainst: "variant 'opencv': OpenCV cv::quality::QualityBRISQUE with its LIVE model (1e-3); 'original': the authors' C++/libsvm release values in results_official.csv",
  },
  licence: "Apache-2.0 (code; OpenCV's LIVE model from Debian opencv-data, Apache-2.0)",
  commercialUse: true,
  options: {
    variant: { type: 'string', enum: ['opencv', 'original'], default: 'opencv', description: "'opencv': what QualityBRISQUE computes; 'original': the authors' MATLAB/libsvm pipeline (needs model and range)" },
    model: { type: 'string', description: "SVR model: libsvm text (the release's allmodel, iqa train output) or OpenCV ml YAML (default: OpenCV's LIVE model)" },
    range: { type: 'string', description: 'feature range: svm-scale text (allrange, MODEL.range) or OpenCV range YAML (default: MODEL.range, else the LIVE range)' },
  },
  files: [{ name: 'models/opencv/brisque_{model,range}_live.yml (packed package) or /usr/share/opencv4/quality/ (source checkout)', description: "OpenCV's LIVE model and range (opencv_contrib quality module, Apache-2.0; copied from Debian opencv-data when the package is packed)" }],
};
