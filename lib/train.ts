// Training BRISQUE models (`iqa train brisque`): labels CSV -> native feature extraction and
// libsvm grid search off the main thread -> MODEL (libsvm text) + MODEL.range (svm-scale).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeOptions, type DecodeOptions } from './config';
import { IqaError, toIqaError } from './errors';
import { native } from './native';

export interface LabelRow {
  image: string;
  mos: number;
}

/** Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, commas and newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new IqaError('ERR_INPUT', 'labels CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Reads a labels CSV with a header holding `image` and `mos` columns. */
export async function readLabels(path: string): Promise<LabelRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IqaError('ERR_INPUT', `cannot read labels CSV '${path}': ${(e as Error).message}`);
  }
  const rows = parseCsv(text);
  if (rows.length < 2) throw new IqaError('ERR_INPUT', `labels CSV '${path}' has no data rows`);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const ci = header.indexOf('image');
  const cm = header.indexOf('mos');
  if (ci < 0 || cm < 0) throw new IqaError('ERR_INPUT', `labels CSV '${path}' needs 'image' and 'mos' columns (has: ${rows[0].join(', ')})`);
  return rows.slice(1).map((r, k) => {
    const mos = Number(r[cm]);
    if (r[ci] === undefined || r[ci] === '' || r[cm] === undefined || r[cm].trim() === '' || !Number.isFinite(mos))
      throw new IqaError('ERR_INPUT', `labels CSV '${path}' line ${k + 2}: needs an image name and a numeric mos`);
    return { image: r[ci], mos };
  });
}

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
  const rows = await readLabels(o.labels);
  const range = o.range ?? `${o.out}.range`;
  const paths = rows.map((r) => ({ path: resolve(join(o.images, r.image)) }));
  try {
    const r = (await native().trainBrisque(
      paths,
      rows.map((r) => r.image),
      rows.map((r) => r.mos),
      { out: o.out, range, folds: o.folds ?? 5, variant: o.variant ?? 'opencv', seed: o.seed ?? 1 },
      decodeOptions(o),
    )) as Omit<TrainBrisqueResult, 'model' | 'range'>;
    return { model: o.out, range, ...r };
  } catch (e) {
    throw toIqaError(e);
  }
}
