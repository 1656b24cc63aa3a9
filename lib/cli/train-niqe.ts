// `iqa train niqe`: fits a NIQE pristine model the way the authors' release does
// (estimatemodelparam.m): the 36 patch features of every 96x96 patch of each pristine image
// (native code), keeping per image the patches whose sharpness exceeds `sharpnessThreshold`
// (0.75 in the release) times that image's sharpest patch; then the multivariate Gaussian of
// all kept patches: nanmean, and the covariance of the NaN-free patches (normalised by n - 1).
// Writes the project's JSON model (native/core/niqe/niqe_model.h reads it).
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { concurrency as setConcurrency } from '../core/config';
import { IqaError } from '../core/errors';
import { runNr } from '../core/run';
import { expandPaths } from '../pipelines/files';
import { positiveInt } from './parsers';

export const NIQE_FEATURES = 36;
const ROW = NIQE_FEATURES + 1; // [sharpness, 36 features] per patch, as the native features() returns

export interface TrainNiqeOptions {
  /** Keep patches sharper than this fraction of the image's sharpest patch (release: 0.75). */
  sharpnessThreshold?: number;
  /** Shrink images whose longer side exceeds this (MATLAB bicubic imresize) first; 0/undefined: off. */
  maxSide?: number;
  /** Free text stored in the model (provenance). */
  description?: string;
  /** Called once per image that could not be used. */
  onSkip?: (path: string, reason: string) => void;
}

export interface NiqeModelFile {
  format: 'iqa-niqe-model';
  version: 1;
  description: string;
  procedure: string;
  block_size: 96;
  sharpness_threshold: number;
  max_side: number;
  images: string[];
  patches: number;
  complete_patches: number;
  mu: number[];
  /** 36 x 36, row-major. */
  cov: number[];
}

/** Fits the pristine model from image files; returns the model object (not yet written). */
export async function fitNiqeModel(paths: readonly string[], o: TrainNiqeOptions = {}): Promise<NiqeModelFile> {
  const th = o.sharpnessThreshold ?? 0.75;
  if (!(th >= 0 && th <= 1)) throw new IqaError('ERR_INPUT', 'sharpness threshold must lie in [0, 1]');
  const maxSide = o.maxSide ?? 0;
  const rows: Float64Array[] = [];
  const used: string[] = [];
  const chunk = 16;
  for (let i = 0; i < paths.length; i += chunk) {
    const part = paths.slice(i, i + chunk);
    const r = await runNr('niqe', { maxSide: maxSide || undefined }, part, undefined, 'features');
    part.forEach((p, k) => {
      const v = r.values[k];
      const err = r.errors[k];
      if (err || !v) {
        o.onSkip?.(p, err ? `${err.code}: ${err.message}` : 'no features');
        return;
      }
      const n = v.length / ROW;
      let sharpest = -Infinity;
      for (let q = 0; q < n; q++) sharpest = Math.max(sharpest, v[q * ROW]);
      let kept = 0;
      for (let q = 0; q < n; q++) {
        if (v[q * ROW] > th * sharpest) {
          rows.push(v.subarray(q * ROW + 1, (q + 1) * ROW));
          kept++;
        }
      }
      if (kept > 0) used.push(basename(p));
      else o.onSkip?.(p, 'no patch passed the sharpness threshold');
    });
  }
  const { mu, cov, complete } = fitMvg(rows);
  if (complete < 2)
    throw new IqaError('ERR_INPUT', `only ${complete} usable patch(es) from ${paths.length} image(s): NIQE training needs at least 2 (use more or larger pristine images)`);
  return {
    format: 'iqa-niqe-model',
    version: 1,
    description: o.description ?? '',
    procedure: `NIQE release estimatemodelparam: 96x96 patches, sharpness threshold ${th}, nanmean/nancov`,
    block_size: 96,
    sharpness_threshold: th,
    max_side: maxSide,
    images: used,
    patches: rows.length,
    complete_patches: complete,
    mu,
    cov,
  };
}

/** nanmean over all rows; covariance (n - 1) over the rows without NaN, as MATLAB's nancov. */
export function fitMvg(rows: readonly ArrayLike<number>[]): { mu: number[]; cov: number[]; complete: number } {
  const d = NIQE_FEATURES;
  const sum = new Float64Array(d);
  const cnt = new Float64Array(d);
  const complete: ArrayLike<number>[] = [];
  for (const r of rows) {
    let ok = true;
    for (let j = 0; j < d; j++) {
      if (Number.isNaN(r[j])) ok = false;
      else {
        sum[j] += r[j];
        cnt[j]++;
      }
    }
    if (ok) complete.push(r);
  }
  const mu = Array.from(sum, (s, j) => s / cnt[j]);
  const n = complete.length;
  const mean = new Float64Array(d);
  for (const r of complete) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  const cov = new Array<number>(d * d).fill(0);
  for (const r of complete)
    for (let a = 0; a < d; a++) {
      const da = r[a] - mean[a];
      for (let b = a; b < d; b++) cov[a * d + b] += da * (r[b] - mean[b]);
    }
  const denom = n > 1 ? n - 1 : 1;
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= denom;
      cov[b * d + a] = cov[a * d + b];
    }
  return { mu, cov, complete: n };
}


function fraction(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number in [0, 1]');
  return n;
}

interface CliOptions {
  images: string;
  out: string;
  sharpnessThreshold: number;
  maxSide?: number;
  description?: string;
  concurrency?: number;
}

/** Adds `niqe` under the `train` command. */
export function registerTrainNiqe(train: Command): void {
  train
    .command('niqe')
    .description('fit a NIQE pristine model from a folder of pristine images (the release procedure)')
    .requiredOption('--images <dir>', 'folder of pristine images (recursive)')
    .requiredOption('--out <file>', 'model file to write (JSON)')
    .option('--sharpness-threshold <t>', 'keep patches sharper than t x the sharpest patch of their image', fraction, 0.75)
    .option('--max-side <px>', 'shrink larger images to this longer side first (MATLAB bicubic)', positiveInt)
    .option('--description <text>', 'provenance note stored in the model')
    .option('--concurrency <n>', 'threads', positiveInt)
    .action(async (o: CliOptions) => {
      if (o.concurrency) setConcurrency(o.concurrency);
      const paths: string[] = [];
      for await (const p of expandPaths([o.images])) paths.push(p);
      if (paths.length === 0 || (paths.length === 1 && paths[0] === o.images)) throw new IqaError('ERR_INPUT', `no images found in ${o.images}`);
      let skipped = 0;
      const model = await fitNiqeModel(paths, {
        sharpnessThreshold: o.sharpnessThreshold,
        maxSide: o.maxSide,
        description: o.description,
        onSkip: (p, why) => {
          skipped++;
          process.stderr.write(`iqa: skipped ${p}: ${why}\n`);
        },
      });
      await writeFile(o.out, JSON.stringify(model, null, 1) + '\n');
      process.stderr.write(`iqa: wrote ${o.out}: ${model.images.length} images, ${model.patches} patches (${skipped} images skipped)\n`);
      process.exitCode = 0;
    });
}
