// Shared test helpers. Data under ../shared is not part of the repository: tests that need it
// call sharedPath() and are skipped with a clear message when it is absent.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { IqaError } from '../lib/core/errors';
import type { ModelManifest } from '../lib/deep/manifest';

export const ROOT = resolve(__dirname, '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(join(SHARED, 'data'));
export const SHARED_SKIP_REASON = `../shared not found at ${SHARED}: skipping tests that need the shared reference data`;
if (!HAS_SHARED) console.warn(SHARED_SKIP_REASON);

export function sharedPath(...parts: string[]): string {
  return join(SHARED, ...parts);
}

export const CALIBRATION_IMAGES = ['I03', 'I04', 'I06', 'I08', 'I19'] as const;

/** Deterministic pseudo-random generator (mulberry32) for generated test images. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A smooth-plus-noise RGB test image (raw pixels), deterministic per seed. */
export function syntheticRgb(width: number, height: number, seed = 1): { data: Uint8Array; width: number; height: number; channels: 3 } {
  const r = rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        const v = 128 + 80 * Math.sin((x * (c + 1)) / 17 + y / 23) + 30 * (r() - 0.5);
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return { data, width, height, channels: 3 };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<IqaError> {
  try {
    await p;
  } catch (e) {
    return e as IqaError;
  }
  throw new Error('expected a rejection');
}

/** A Python (IQA_PYTHON, then /work/pyenv's) that imports every one of `modules`, else undefined. */
export function pythonWith(modules: string[]): string | undefined {
  return [process.env.IQA_PYTHON, '/work/pyenv/bin/python'].find((p) => p && spawnSync(p, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' }).status === 0);
}

/**
 * Writes an edited copy of the manifest at `manifestPath` to `dir`/`name`.json next to a copy of
 * its ONNX file (or of `onnxFile`, under the manifest's file name); returns the copy's path.
 */
export function manifestVariant(manifestPath: string, dir: string, name: string, edit: (m: ModelManifest) => void, onnxFile?: string): string {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  edit(m);
  copyFileSync(onnxFile ?? join(dirname(manifestPath), m.model.file), join(dir, basename(m.model.file)));
  if (onnxFile) delete m.model.sha256;
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(m));
  return p;
}

/**
 * Largest |score - golden| of `scoreMany` over golden sets of shared images: the calibration set
 * (names without extension, dist_dir BMPs) and the BIQ2021 set (file names), both ../shared.
 */
export async function worstSharedDelta(
  scorer: { scoreMany(paths: string[]): Promise<ArrayLike<number>> },
  calibration: Record<string, { score: number }>,
  biq2021: Record<string, { score: number }>,
): Promise<{ worst: number; images: number }> {
  let worst = 0;
  let images = 0;
  for (const [set, path] of [
    [calibration, (n: string) => sharedPath('data/calibration/dist_dir', `${n}.bmp`)],
    [biq2021, (n: string) => sharedPath('data/biq2021/images', n)],
  ] as const) {
    const names = Object.keys(set);
    const scores = await scorer.scoreMany(names.map(path));
    for (let i = 0; i < names.length; i++) worst = Math.max(worst, Math.abs(scores[i] - set[names[i]].score));
    images += names.length;
  }
  return { worst, images };
}

type SharedScorer = { scoreMany(paths: string[]): Promise<ArrayLike<number>> };

/**
 * The shared-image parity check of the zoo tests: `scorer` (or a model `load()` gives, closed after)
 * scores the five calibration and 20 BIQ2021 images of the goldens, all 25 must be there and
 * each within `tol` of its golden; logs the worst delta under `label`.
 */
export async function expectSharedParity(
  label: string,
  scorer: SharedScorer | (() => Promise<SharedScorer & { close(): Promise<void> }>),
  calibration: Record<string, { score: number }>,
  biq2021: Record<string, { score: number }>,
  tol = 1e-4,
): Promise<void> {
  const model = typeof scorer === 'function' ? await scorer() : scorer;
  try {
    const { worst, images } = await worstSharedDelta(model, calibration, biq2021);
    console.log(`${label} over ${images} shared images: worst |ours - reference| ${worst.toExponential(2)}`);
    expect(images).toBe(25);
    expect(worst).toBeLessThanOrEqual(tol);
  } finally {
    if (typeof scorer === 'function') await (model as { close(): Promise<void> }).close();
  }
}

/** Writes seeded deepIQA weights in the authors' Chainer HDF5 layout: `net` is a call of
 * tools/export/wadiqam_model.py, e.g. 'seeded_fr_model(4, True)'. */
export function writeChainerHdf5(python: string, net: string, out: string): SpawnSyncReturns<string> {
  const code = `import sys; sys.path.insert(0, sys.argv[1]); from wadiqam_model import *; save_chainer_hdf5(${net}, sys.argv[2])`;
  return spawnSync(python, ['-c', code, join(ROOT, 'tools/export'), out], { encoding: 'utf8' });
}

/** `iqa models import NAME --checkpoint FILE --python PYTHON` installing into `modelDir`. */
export function cliImport(python: string, name: string, checkpoint: string, modelDir: string): SpawnSyncReturns<string> {
  const env = { ...process.env, IQA_MODEL_DIR: modelDir };
  return spawnSync(process.execPath, [join(ROOT, 'dist/cjs/cli/index.js'), 'models', 'import', name, '--checkpoint', checkpoint, '--python', python], { encoding: 'utf8', env });
}

/** One image's entry in the patch models' goldens (cnniqa, wadiqam, wadiqam_fr). */
export interface PatchScored {
  score: number;
  patches: number;
  patchScores?: number[];
  patchWeights?: number[];
}
