// Temporal pooling of per-frame scores.
import { IqaError } from '../core/errors';

export interface Pooled {
  mean: number;
  /** n / Σ(1/x); 0 when any value is 0, NaN when any is negative. */
  harmonicMean: number;
  min: number;
  max: number;
  /** Linear interpolation between order statistics (numpy's default). */
  p5: number;
  p50: number;
  p95: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Pools finite values; infinite ones (PSNR of identical frames) count in min/max/percentiles only. */
export function pool(values: ArrayLike<number>): Pooled {
  const n = values.length;
  if (n === 0) return { mean: NaN, harmonicMean: NaN, min: NaN, max: NaN, p5: NaN, p50: NaN, p95: NaN };
  const sorted = Float64Array.from(values).sort();
  let sum = 0, inv = 0, negative = false;
  for (let i = 0; i < n; i++) {
    sum += sorted[i];
    inv += 1 / sorted[i];
    if (sorted[i] < 0) negative = true;
  }
  return {
    mean: sum / n,
    harmonicMean: negative ? NaN : n / inv,
    min: sorted[0],
    max: sorted[n - 1],
    p5: percentile(sorted, 5),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}

/**
 * VSFA's subjectively-inspired temporal pooling (Li et al., ACM MM 2019, `TP` in the authors'
 * VSFA.py): per frame t, the memory term is the minimum of frames t-τ+1..t, the current term a
 * softmin-weighted mean of frames t..t+τ-1; the frame's value is β·current + (1-β)·memory, and
 * the video's the mean over frames.
 * Scores must be "higher is better" (the minimum is the worst frame).
 */
export function vsfaPool(values: ArrayLike<number>, tau = 12, beta = 0.5): number {
  const n = values.length;
  if (!Number.isInteger(tau) || tau < 1) throw new IqaError('ERR_INPUT', 'tau must be a positive integer');
  if (!(beta >= 0 && beta <= 1)) throw new IqaError('ERR_INPUT', 'beta must be in [0, 1]');
  if (n === 0) return NaN;
  let total = 0;
  for (let t = 0; t < n; t++) {
    let memory = Infinity;
    for (let k = Math.max(0, t - tau + 1); k <= t; k++) memory = Math.min(memory, values[k]);
    const end = Math.min(n - 1, t + tau - 1);
    let mx = -Infinity;
    for (let k = t; k <= end; k++) mx = Math.max(mx, -values[k]);
    let wsum = 0, acc = 0;
    for (let k = t; k <= end; k++) {
      const w = Math.exp(-values[k] - mx);
      wsum += w;
      acc += w * values[k];
    }
    total += beta * (acc / wsum) + (1 - beta) * memory;
  }
  return total / n;
}
