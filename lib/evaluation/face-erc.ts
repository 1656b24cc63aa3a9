// Face quality evaluation: error-versus-reject (ERC) and error-versus-discard (EDC) curves.
// A quality method is good for recognition when dropping its lowest-quality pairs lowers the
// false non-match rate (FNMR) fastest. Pair quality is min(q_a, q_b) (max for lower-is-better
// qualities); pairs are rejected
// lowest-quality first in fractions 0, 0.05, ..., 0.95 (CR-FIQA's ERC/erc.py, MagFace's
// eval_quality.py). Two threshold rules:
//   erc  the distance threshold for the target FMR is recomputed on each remaining subset
//        (what CR-FIQA's erc.py does);
//   edc  the threshold is fixed on the full set, as ISO/IEC 29794-1 EDC curves are drawn.
// Thresholds follow CR-FIQA's roc.py: candidate thresholds are the distinct scores, FMR at a
// threshold t counts impostors with distance <= t, the operating point is the first threshold
// whose FMR is closest to the target, and a genuine pair matches when its distance < t.
// Hand-written (no JavaScript library does this); checked against a numpy re-implementation of
// erc.py/roc.py on synthetic data (scripts/golden/face_erc_golden.py, test/face-erc.test.ts).
import { IqaError } from '../core/errors';

export interface FacePair {
  a: string;
  b: string;
  /** Same identity (genuine pair). */
  same: boolean;
}

export type FaceDistance = 'arccos' | 'euclidean';

export interface FaceErcOptions {
  /** FMR operating points (default [1e-3, 1e-4]). */
  fmrs?: number[];
  /** Upper discard fraction of the partial AUC (default 0.2). */
  paucLimit?: number;
  /** 'arccos': arccos(cosine) / pi, CR-FIQA's default; 'euclidean': squared distance of L2-normalised embeddings. */
  distance?: FaceDistance;
  /** Lower quality is better (e.g. PFE's uncertainty); default false. */
  lowerIsBetter?: boolean;
}

export interface FaceErcCurve {
  fmr: number;
  /** The discard fractions, 0 to 0.95 by 0.05. */
  rejected: number[];
  /** FNMR per discard fraction, threshold recomputed on each subset (CR-FIQA's ERC). */
  erc: number[];
  /** FNMR per discard fraction, threshold fixed on the full set (EDC). */
  edc: number[];
  /** The full-set threshold (distance) of the EDC. */
  threshold: number;
  /** Trapezoid areas under the curves over [0, 0.95], and over [0, paucLimit]. A curve ends where its
   *  subset runs out of genuine pairs (or, for the ERC, of impostor pairs): its areas then cover the
   *  part before that, up to `ercAucTo` / `edcAucTo` (0.95 when the curve is complete). */
  ercAuc: number;
  edcAuc: number;
  ercPauc: number;
  edcPauc: number;
  /** The discard fraction where the area under each curve stops (its last defined point). */
  ercAucTo: number;
  edcAucTo: number;
}

export interface FaceErcResult {
  pairs: number;
  genuine: number;
  impostor: number;
  distance: FaceDistance;
  paucLimit: number;
  curves: FaceErcCurve[];
}

export function pairDistance(x: ArrayLike<number>, y: ArrayLike<number>, kind: FaceDistance): number {
  if (x.length !== y.length || x.length === 0) throw new IqaError('ERR_INPUT', `embeddings of different or zero length (${x.length}, ${y.length})`);
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  if (!(nx > 0 && ny > 0) || !Number.isFinite(dot)) throw new IqaError('ERR_INPUT', 'an embedding is zero or not finite');
  if (kind === 'arccos') return Math.acos(Math.min(1, Math.max(-1, dot / (Math.sqrt(nx) * Math.sqrt(ny))))) / Math.PI;
  const sx = Math.sqrt(nx), sy = Math.sqrt(ny);
  let d = 0;
  for (let i = 0; i < x.length; i++) d += (x[i] / sx - y[i] / sy) ** 2;
  return d;
}

/**
 * The distance threshold at `fmr` for these genuine and impostor distances: among the distinct
 * distances t, FMR(t) = #impostors with distance <= t / #impostors; the first t whose FMR is
 * closest to `fmr` (roc.py's calculate_roc with dissimilarity scores and get_fmr_op).
 */
export function thresholdAtFmr(genuine: Float64Array, impostor: Float64Array, fmr: number): number {
  if (impostor.length === 0) throw new IqaError('ERR_INPUT', 'no impostor pairs left to set a threshold');
  // roc.py negates dissimilarities and sorts ascending: distinct thresholds from the largest distance down.
  const all = Float64Array.from([...genuine, ...impostor]).sort();
  const imp = Float64Array.from(impostor).sort();
  let best = NaN, bestGap = Infinity;
  // Impostors with distance >= -(-t)... counted from the sorted impostor list: #(imp <= t).
  let k = imp.length; // #(imp <= current t), t descending
  for (let i = all.length - 1; i >= 0; i--) {
    const t = all[i];
    if (i < all.length - 1 && all[i + 1] === t) continue;
    while (k > 0 && imp[k - 1] > t) k--;
    const gap = Math.abs(k / imp.length - fmr);
    if (gap < bestGap) {
      bestGap = gap;
      best = t;
    }
  }
  return best;
}

function fnmrAt(genuine: Float64Array, t: number): number {
  let matched = 0;
  for (const g of genuine) if (g < t) matched++;
  return 1 - matched / genuine.length;
}

/** Trapezoid area of y over x (sklearn.metrics.auc for increasing x), over the points before the first
 *  NaN (where a small set's curve ends); sklearn would return NaN there. */
function trapezoid(x: number[], y: number[]): number {
  let s = 0;
  for (let i = 1; i < x.length && !Number.isNaN(y[i]); i++) s += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return s;
}

/** The last x before the first NaN of y. */
function definedTo(x: number[], y: number[]): number {
  const end = y.findIndex((v) => Number.isNaN(v));
  return x[(end < 0 ? y.length : end) - 1];
}

/**
 * ERC and EDC curves from per-pair distances, genuine flags and pair qualities (min of the two
 * images' qualities, computed by the caller or by faceErc).
 */
export function ercCurves(distances: ArrayLike<number>, same: ArrayLike<boolean>, quality: ArrayLike<number>, o: FaceErcOptions = {}): FaceErcCurve[] {
  const n = distances.length;
  if (same.length !== n || quality.length !== n) throw new IqaError('ERR_INPUT', 'distances, labels and qualities differ in length');
  if (n === 0) throw new IqaError('ERR_INPUT', 'no pairs');
  for (let i = 0; i < n; i++) if (!Number.isFinite(quality[i]) || !Number.isFinite(distances[i])) throw new IqaError('ERR_INPUT', `pair ${i + 1} has a non-finite quality or distance`);
  const fmrs = o.fmrs ?? [1e-3, 1e-4];
  const limit = o.paucLimit ?? 0.2;
  if (!(limit > 0 && limit <= 0.95)) throw new IqaError('ERR_INPUT', 'paucLimit must be in (0, 0.95]');
  for (const f of fmrs) if (!(f > 0 && f < 1)) throw new IqaError('ERR_INPUT', 'FMR operating points must be in (0, 1)');
  // Lowest quality first (numpy argsort; ties keep their input order here).
  const sign = o.lowerIsBetter ? -1 : 1;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => sign * (quality[i] - quality[j]) || i - j);
  // np.arange(0, 0.98, 0.05): start + i * step.
  const rejected = Array.from({ length: 20 }, (_, i) => i * 0.05);
  const subsets = rejected.map((r) => {
    const kept = order.slice(Math.trunc(r * n));
    const gen: number[] = [], imp: number[] = [];
    for (const i of kept) (same[i] ? gen : imp).push(distances[i]);
    return { genuine: Float64Array.from(gen), impostor: Float64Array.from(imp) };
  });
  if (subsets[0].genuine.length === 0 || subsets[0].impostor.length === 0) throw new IqaError('ERR_INPUT', 'the pairs need both genuine and impostor pairs');
  const inPauc = rejected.filter((r) => r <= limit + 1e-12).length;
  return fmrs.map((fmr) => {
    const threshold = thresholdAtFmr(subsets[0].genuine, subsets[0].impostor, fmr);
    const erc: number[] = [], edc: number[] = [];
    for (const s of subsets) {
      // A subset without genuine pairs has no FNMR to report: NaN (the curve ends there).
      if (s.genuine.length === 0) {
        erc.push(NaN), edc.push(NaN);
        continue;
      }
      edc.push(fnmrAt(s.genuine, threshold));
      erc.push(s.impostor.length ? fnmrAt(s.genuine, thresholdAtFmr(s.genuine, s.impostor, fmr)) : NaN);
    }
    return {
      fmr,
      rejected,
      erc,
      edc,
      threshold,
      ercAuc: trapezoid(rejected, erc),
      edcAuc: trapezoid(rejected, edc),
      ercPauc: trapezoid(rejected.slice(0, inPauc), erc.slice(0, inPauc)),
      edcPauc: trapezoid(rejected.slice(0, inPauc), edc.slice(0, inPauc)),
      ercAucTo: definedTo(rejected, erc),
      edcAucTo: definedTo(rejected, edc),
    };
  });
}

/** Evaluates per-image qualities and embeddings on pairs: distances, min-quality, ERC/EDC curves. */
export function faceErc(pairs: readonly FacePair[], quality: ReadonlyMap<string, number>, embeddings: ReadonlyMap<string, ArrayLike<number>>, o: FaceErcOptions = {}): FaceErcResult {
  const distance = o.distance ?? 'arccos';
  const d: number[] = [], s: boolean[] = [], q: number[] = [];
  const missing = new Set<string>();
  for (const p of pairs) {
    for (const k of [p.a, p.b]) if (!quality.has(k) || !embeddings.has(k)) missing.add(k);
    if (missing.size) continue;
    d.push(pairDistance(embeddings.get(p.a)!, embeddings.get(p.b)!, distance));
    s.push(p.same);
    // The pair is as good as its worse image.
    q.push(o.lowerIsBetter ? Math.max(quality.get(p.a)!, quality.get(p.b)!) : Math.min(quality.get(p.a)!, quality.get(p.b)!));
  }
  if (missing.size) throw new IqaError('ERR_INPUT', `${missing.size} image(s) of the pairs have no quality or embedding, e.g. ${[...missing].slice(0, 3).join(', ')}`);
  const curves = ercCurves(d, s, q, o);
  const genuine = s.filter(Boolean).length;
  return { pairs: d.length, genuine, impostor: d.length - genuine, distance, paucLimit: o.paucLimit ?? 0.2, curves };
}

/** Pairs from identities in file names (`<n>-<Identity>_<k>.jpg`, or a caller's rule): every genuine pair, and as many seeded impostor pairs. */
export function pairsFromIdentities(files: readonly string[], identityOf: (file: string) => string, seed = 0): FacePair[] {
  const byId = new Map<string, string[]>();
  for (const f of files) {
    const id = identityOf(f);
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id)!.push(f);
  }
  const pairs: FacePair[] = [];
  for (const list of byId.values()) for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) pairs.push({ a: list[i], b: list[j], same: true });
  const genuine = pairs.length;
  if (genuine === 0) throw new IqaError('ERR_INPUT', 'no identity has two images: no genuine pairs');
  if (byId.size < 2) throw new IqaError('ERR_INPUT', 'one identity only: no impostor pairs');
  // Seeded xorshift: the same impostor pairs every run.
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const seen = new Set<string>();
  for (let guard = 0; pairs.length < 2 * genuine && guard < 100 * genuine; guard++) {
    const a = files[Math.floor(next() * files.length)], b = files[Math.floor(next() * files.length)];
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    if (a === b || identityOf(a) === identityOf(b) || seen.has(key)) continue;
    seen.add(key);
    pairs.push({ a, b, same: false });
  }
  return pairs;
}
