// Correlation coefficients computed as scipy.stats computes them (pearsonr, spearmanr, kendalltau
// with variant 'b'); test/golden/metrics.json holds scipy's values for the parity tests.
// Hand-written: no maintained npm statistics package offers tau-b in O(n log n) with tie
// corrections, and these are a few dozen lines each.
import { IqaError } from '../core/errors';

export type Vector = ArrayLike<number>;

/** Checks a pair of equally long, finite vectors of at least `min` values; returns n. */
export function checkPair(x: Vector, y: Vector, what: string, min = 2): number {
  if (!x || !y || typeof x.length !== 'number' || typeof y.length !== 'number') throw new IqaError('ERR_INPUT', `${what}: expected two arrays of numbers`);
  if (x.length !== y.length) throw new IqaError('ERR_INPUT', `${what}: the vectors differ in length (${x.length} and ${y.length})`);
  if (x.length < min) throw new IqaError('ERR_INPUT', `${what}: needs at least ${min} pairs, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw new IqaError('ERR_INPUT', `${what}: value ${i} of the first vector is not a finite number (${String(x[i])})`);
    if (typeof y[i] !== 'number' || !Number.isFinite(y[i])) throw new IqaError('ERR_INPUT', `${what}: value ${i} of the second vector is not a finite number (${String(y[i])})`);
  }
  return x.length;
}

function isConstant(v: Vector): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

/** A correlation is undefined when a vector is constant: say so instead of returning NaN. */
function checkNotConstant(x: Vector, y: Vector, what: string): void {
  const cx = isConstant(x);
  const cy = isConstant(y);
  if (cx || cy)
    throw new IqaError('ERR_INPUT', `${what} is undefined: ${cx && cy ? 'both vectors are' : cx ? 'the first vector is' : 'the second vector is'} constant (all ${cx ? x[0] : y[0]})`);
}

function pearsonUnchecked(x: Vector, y: Vector): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // Both vectors vary (checked), yet centred sums can underflow for tiny spreads: scale first.
  const r = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx) / Math.sqrt(syy) : scaledPearson(x, y, mx, my);
  return Math.max(-1, Math.min(1, r));
}

function scaledPearson(x: Vector, y: Vector, mx: number, my: number): number {
  let ax = 0;
  let ay = 0;
  for (let i = 0; i < x.length; i++) {
    ax = Math.max(ax, Math.abs(x[i] - mx));
    ay = Math.max(ay, Math.abs(y[i] - my));
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = (x[i] - mx) / ax;
    const dy = (y[i] - my) / ay;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx) / Math.sqrt(syy);
}

/**
 * Pearson linear correlation (scipy.stats.pearsonr's statistic). Throws ERR_INPUT when the
 * vectors differ in length, hold fewer than 2 values or a non-finite one, or one is constant.
 */
export function pearson(x: Vector, y: Vector): number {
  checkPair(x, y, 'PLCC');
  checkNotConstant(x, y, 'PLCC');
  return pearsonUnchecked(x, y);
}

/** Ranks 1..n with ties given their average rank (scipy.stats.rankdata, method 'average'). */
export function rankAverage(v: Vector): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && v[order[j]] === v[order[i]]) j++;
    const r = (i + 1 + j) / 2; // mean of ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]] = r;
    i = j;
  }
  return ranks;
}

/** Spearman rank correlation: Pearson of the average ranks (scipy.stats.spearmanr). */
export function spearman(x: Vector, y: Vector): number {
  checkPair(x, y, 'SROCC');
  checkNotConstant(x, y, 'SROCC');
  return pearsonUnchecked(rankAverage(x), rankAverage(y));
}

/** Number of pairs i < j with a[i] > a[j] (strict), by bottom-up merge sort; also returns a sorted copy. */
function countInversions(a: Float64Array): { inversions: number; sorted: Float64Array } {
  const n = a.length;
  let buf: Float64Array = new Float64Array(n);
  let src: Float64Array = Float64Array.from(a);
  let inv = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[j] < src[i]) {
          inv += mid - i;
          buf[k++] = src[j++];
        } else buf[k++] = src[i++];
      }
      while (i < mid) buf[k++] = src[i++];
      while (j < hi) buf[k++] = src[j++];
    }
    const t = src;
    src = buf;
    buf = t;
  }
  return { inversions: inv, sorted: src };
}

function tiePairs(sorted: ArrayLike<number>): number {
  let pairs = 0;
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      pairs += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return pairs;
}

/**
 * Kendall's tau-b (scipy.stats.kendalltau, variant 'b'), O(n log n) (Knight 1966):
 * (concordant - discordant) / sqrt((pairs - x ties) (pairs - y ties)).
 */
export function kendall(x: Vector, y: Vector): number {
  const n = checkPair(x, y, 'KROCC');
  checkNotConstant(x, y, 'KROCC');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x[order[i]];
    ys[i] = y[order[i]];
  }
  const total = (n * (n - 1)) / 2;
  const xTies = tiePairs(xs);
  let jointTies = 0;
  let run = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && xs[i] === xs[i - 1] && ys[i] === ys[i - 1]) run++;
    else {
      jointTies += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  // Sorted by x then y, a discordant pair is an inversion of the y sequence.
  const { inversions: discordant, sorted: ySorted } = countInversions(ys);
  const yTies = tiePairs(ySorted);
  const conMinusDis = total - xTies - yTies + jointTies - 2 * discordant;
  const tau = conMinusDis / Math.sqrt(total - xTies) / Math.sqrt(total - yTies);
  return Math.max(-1, Math.min(1, tau));
}
