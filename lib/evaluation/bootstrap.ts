// Percentile bootstrap confidence intervals with a seeded generator (reproducible runs).
import { seededRandom } from './prng';

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  samples?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** numpy.percentile's default ('linear') quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Draws `samples` resamples of indices 0..n-1 (with replacement) and hands each to every statistic.
 * A statistic returns NaN (or throws) for a resample where it is undefined (e.g. constant values);
 * such resamples are counted and left out of its interval.
 */
export function bootstrapIntervals<K extends string>(
  n: number,
  statistics: Record<K, (idx: Uint32Array) => number>,
  options: BootstrapOptions = {},
  /** Called with each resample before the statistics (work they share, e.g. a refit). */
  prepare?: (idx: Uint32Array) => void,
): Record<K, { ci: [number, number] | null; valid: number }> & { samples: number; seed: number; level: number } {
  const samples = options.samples ?? 1000;
  const seed = options.seed ?? 1;
  const level = options.level ?? 0.95;
  const rand = seededRandom(seed);
  const keys = Object.keys(statistics) as K[];
  const values = new Map<K, number[]>(keys.map((k) => [k, []]));
  const idx = new Uint32Array(n);
  for (let b = 0; b < samples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    prepare?.(idx);
    for (const k of keys) {
      let v: number;
      try {
        v = statistics[k](idx);
      } catch {
        v = NaN;
      }
      if (Number.isFinite(v)) values.get(k)!.push(v);
    }
  }
  const out = { samples, seed, level } as Record<K, { ci: [number, number] | null; valid: number }> & { samples: number; seed: number; level: number };
  const alpha = (1 - level) / 2;
  for (const k of keys) {
    const v = values.get(k)!.sort((a, b) => a - b);
    // An interval from a minority of the resamples would describe a different population.
    const ci: [number, number] | null = v.length >= Math.max(2, 0.9 * samples) ? [quantileSorted(v, alpha), quantileSorted(v, 1 - alpha)] : null;
    (out as Record<K, unknown>)[k] = { ci, valid: v.length };
  }
  return out;
}
