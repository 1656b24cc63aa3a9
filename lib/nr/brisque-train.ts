// Training BRISQUE models (`iqa train brisque`): labels CSV -> native feature extraction and
// libsvm grid search off the main thread -> MODEL (libsvm text) + MODEL.range (svm-scale).
import { decodeOptions, type DecodeOptions } from '../core/config';
import { toIqaError } from '../core/errors';
import { load } from '../evaluation/datasets';
import { native } from '../core/native';

export interface TrainBrisqueOptions extends DecodeOptions {
  /** Labels CSV (header with `image` and `mos`). */
  labels: string;
  /** Folder the CSV's image names are relative to. */
  images: string;
  /** Model path (libsvm text); the feature range goes to `${out}.range` unless `range` is given. */
  out: string;
  range?: string;
  /** Cross-validation folds (default 5). */
  folds?: number;
  /** Feature variant (default 'opencv', as `brisque()` uses by default). */
  variant?: 'opencv' | 'original';
  /** Seed of the fold assignment (default 1). */
  seed?: number;
}

export interface TrainBrisqueResult {
  model: string;
  range: string;
  images: number;
  failed: { image: string; message: string }[];
  c: number;
  gamma: number;
  epsilon: number;
  /** Mean over folds of the held-out SROCC / PLCC (PLCC without a logistic fit) at the chosen grid point. */
  cvSrocc: number;
  cvSroccSd: number;
  cvPlcc: number;
  cvPlccSd: number;
  gridPoints: number;
  folds: number;
  supportVectors: number;
  featureSeconds: number;
  searchSeconds: number;
  totalSeconds: number;
}

/**
 * Fits an epsilon-SVR (RBF) on BRISQUE features of labelled images: C, gamma and epsilon by
 * K-fold cross-validated SROCC on a grid, all cores. The model and range files it writes are
 * what `brisque(img, { model, range })` and `iqa score --model --range` read.
 */
export async function trainBrisque(o: TrainBrisqueOptions): Promise<TrainBrisqueResult> {
  // Labels through the dataset loader (csv-parse; quoted names with spaces/commas; missing images
  // listed in one ERR_INPUT).
  const rows = load(o.labels, { images: o.images, format: 'csv' }).items;
  const range = o.range ?? `${o.out}.range`;
  const paths = rows.map((r) => ({ path: r.image }));
  try {
    const r = (await native().trainBrisque(
      paths,
      rows.map((r) => r.name),
      rows.map((r) => r.mos),
      { out: o.out, range, folds: o.folds ?? 5, variant: o.variant ?? 'opencv', seed: o.seed ?? 1 },
      decodeOptions(o),
    )) as Omit<TrainBrisqueResult, 'model' | 'range'>;
    return { model: o.out, range, ...r };
  } catch (e) {
    throw toIqaError(e);
  }
}
