// Shared test helpers. Data under ../shared is not part of the repository: tests that need it
// call sharedPath() and are skipped with a clear message when it is absent.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IqaError } from '../lib/core/errors';

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
