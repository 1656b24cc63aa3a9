// The nonlinear mapping the IQA literature fits before PLCC/RMSE (VQEG FR-TV Phase II):
//   logistic5: f(x) = b1 (1/2 - 1 / (1 + exp(b2 (x - b3)))) + b4 x + b5
//   logistic4: f(x) = (b1 - b2) / (1 + exp(-(x - b3) / b4)) + b2
// fitted by least squares with Levenberg-Marquardt. Hand-written: the only maintained npm LM
// (ml-levenberg-marquardt) uses numeric derivatives and loose fixed tolerances, and we need
// analytic Jacobians, tight convergence (parity with scipy's curve_fit to 1e-6) and a typed
// failure instead of silently returned parameters.
// The fit runs on standardised data (z-scores of x and y) so that its starting values and
// tolerances do not depend on the metric's scale (sharpness ~1e3, SSIM ~1), then the parameters
// are transformed back exactly.
import type { Vector } from './correlation';

export type LogisticModel = 'logistic5' | 'logistic4';

export interface LogisticFit {
  ok: true;
  model: LogisticModel;
  /** b1..b5 (or b1..b4) of the formula above, on the caller's scales. */
  params: number[];
  /** Mapped values f(x_i) of the fitted inputs. */
  fitted: Float64Array;
  /** Sum of squared residuals. */
  sse: number;
  iterations: number;
  /** False when the least-squares minimum lies at infinity: the best run hit the iteration cap still improving, or the best mapping is a step (see `limit`). */
  converged: boolean;
  /**
   * 'step' when no finite sigmoid fits as well as the sigmoid's own limit, a jump between two
   * neighbouring scores (plus the linear term in logistic5): the infimum of the SSE lies at an
   * infinite slope. The parameters then describe a sigmoid so steep (40 of its scale lengths per
   * half gap) that its mapped values equal the step's to double precision.
   */
  limit?: 'step';
  /**
   * True when the minimum is finite: the sigmoid's centre lies inside the scores' range, its width
   * over 1/200 of that range (logistic4: also under 100 times it), its amplitude under 100 times
   * the MOS range.
   */
  wellPosed: boolean;
  predict(x: number): number;
}

export type LogisticFailureReason = 'too-few-points' | 'constant-input' | 'non-finite-input' | 'no-convergence' | 'degenerate';

export interface LogisticFailure {
  ok: false;
  model: LogisticModel;
  reason: LogisticFailureReason;
  message: string;
}

export type LogisticResult = LogisticFit | LogisticFailure;

export interface FitOptions {
  model?: LogisticModel;
  /** Most LM iterations per start (default 500). */
  maxIterations?: number;
  /**
   * Relative SSE decrease (and scaled gradient) below which LM stops (default 1e-12, for parity
   * with curve_fit; bootstrap refits use 1e-9: their spread dwarfs it).
   */
  tolerance?: number;
  /** Starting parameters on the standardised scale (warm start, e.g. in the bootstrap). */
  start?: number[];
  /** With a warm start: fall back to the grid of starts when it fails (default true). */
  fallback?: boolean;
}

const NPARAMS: Record<LogisticModel, number> = { logistic5: 5, logistic4: 4 };

/** The model on standardised data; writes the Jacobian row into `jac` when given. */
function evalModel(model: LogisticModel, c: ArrayLike<number>, x: number, jac?: Float64Array): number {
  if (model === 'logistic5') {
    const z = c[1] * (x - c[2]);
    const s = 1 / (1 + Math.exp(z));
    if (jac) {
      const ds = s * (1 - s);
      jac[0] = 0.5 - s;
      jac[1] = c[0] * ds * (x - c[2]);
      jac[2] = -c[0] * ds * c[1];
      jac[3] = x;
      jac[4] = 1;
    }
    return c[0] * (0.5 - s) + c[3] * x + c[4];
  }
  const t = (x - c[2]) / c[3];
  const u = 1 / (1 + Math.exp(-t));
  if (jac) {
    const du = (c[0] - c[1]) * u * (1 - u);
    jac[0] = u;
    jac[1] = 1 - u;
    jac[2] = -du / c[3];
    jac[3] = (-du * (x - c[2])) / (c[3] * c[3]);
  }
  return (c[0] - c[1]) * u + c[1];
}

/** Solves the p x p system a·x = b in place (Gaussian elimination, partial pivoting); false if singular. */
function solve(a: Float64Array, b: Float64Array, p: number): boolean {
  for (let col = 0; col < p; col++) {
    let piv = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r * p + col]) > Math.abs(a[piv * p + col])) piv = r;
    if (!(Math.abs(a[piv * p + col]) > 1e-300)) return false;
    if (piv !== col) {
      for (let k = 0; k < p; k++) {
        const t = a[col * p + k];
        a[col * p + k] = a[piv * p + k];
        a[piv * p + k] = t;
      }
      const t = b[col];
      b[col] = b[piv];
      b[piv] = t;
    }
    for (let r = col + 1; r < p; r++) {
      const f = a[r * p + col] / a[col * p + col];
      if (f === 0) continue;
      for (let k = col; k < p; k++) a[r * p + k] -= f * a[col * p + k];
      b[r] -= f * b[col];
    }
  }
  for (let r = p - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < p; k++) s -= a[r * p + k] * b[k];
    b[r] = s / a[r * p + r];
    if (!Number.isFinite(b[r])) return false;
  }
  return true;
}

function sseOf(model: LogisticModel, c: ArrayLike<number>, xs: Float64Array, ys: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const r = ys[i] - evalModel(model, c, xs[i]);
    s += r * r;
  }
  return s;
}

interface LmResult {
  c: Float64Array;
  sse: number;
  iterations: number;
  converged: boolean;
}

/** Levenberg-Marquardt with Marquardt's diagonal scaling (kept as the running maximum, as MINPACK does). */
function levenbergMarquardt(model: LogisticModel, start: ArrayLike<number>, xs: Float64Array, ys: Float64Array, maxIterations: number, tolerance = 1e-12): LmResult {
  const p = NPARAMS[model];
  const n = xs.length;
  let c = Float64Array.from(start);
  let sse = sseOf(model, c, xs, ys);
  const jac = new Float64Array(p);
  const jtj = new Float64Array(p * p);
  const jtr = new Float64Array(p);
  const diag = new Float64Array(p);
  const a = new Float64Array(p * p);
  const step = new Float64Array(p);
  let lambda = 1e-3;
  let iterations = 0;
  let stalls = 0;
  if (!Number.isFinite(sse)) return { c, sse, iterations, converged: false };
  for (; iterations < maxIterations; iterations++) {
    jtj.fill(0);
    jtr.fill(0);
    for (let i = 0; i < n; i++) {
      const r = ys[i] - evalModel(model, c, xs[i], jac);
      for (let j = 0; j < p; j++) {
        jtr[j] += jac[j] * r;
        for (let k = j; k < p; k++) jtj[j * p + k] += jac[j] * jac[k];
      }
    }
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) jtj[j * p + k] = jtj[k * p + j];
    let gradMax = 0;
    for (let j = 0; j < p; j++) {
      diag[j] = Math.max(diag[j], jtj[j * p + j], 1e-12);
      gradMax = Math.max(gradMax, Math.abs(jtr[j]) / Math.sqrt(diag[j]));
    }
    // Stationary point: the scaled gradient is negligible next to the residual norm.
    if (gradMax <= tolerance * Math.max(Math.sqrt(sse), 1e-300)) return { c, sse, iterations, converged: true };
    let accepted = false;
    while (lambda < 1e16) {
      a.set(jtj);
      for (let j = 0; j < p; j++) a[j * p + j] += lambda * diag[j];
      step.set(jtr);
      if (!solve(a, step, p)) {
        lambda *= 10;
        continue;
      }
      const cNew = new Float64Array(p);
      for (let j = 0; j < p; j++) cNew[j] = c[j] + step[j];
      const sseNew = sseOf(model, cNew, xs, ys);
      if (Number.isFinite(sseNew) && sseNew <= sse) {
        const decrease = sse - sseNew;
        c = cNew;
        sse = sseNew;
        lambda = Math.max(lambda / 3, 1e-12);
        accepted = true;
        // Stagnation: ten steps in a row each lower the SSE by less than `tolerance` (1e-12) of itself. This also ends
        // fits whose infimum lies at infinity (a sigmoid used as its own linear or exponential tail),
        // where the parameters drift while the mapped values have settled.
        stalls = decrease <= tolerance * sse ? stalls + 1 : 0;
        if (stalls >= 10) return { c, sse, iterations: iterations + 1, converged: true };
        break;
      }
      lambda *= 4;
    }
    // No step, however short, lowers the SSE: a minimum to machine precision.
    if (!accepted) return { c, sse, iterations, converged: true };
  }
  return { c, sse, iterations, converged: false };
}

function meanStd(v: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) * (v[i] - m);
  return [m, Math.sqrt(s / v.length)];
}

/** The starting points tried, on standardised data (documented in docs and in the golden script). */
export function logisticStarts(model: LogisticModel, xs: ArrayLike<number>, ys: ArrayLike<number>): number[][] {
  let sxy = 0;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    sxy += xs[i] * ys[i];
    ymin = Math.min(ymin, ys[i]);
    ymax = Math.max(ymax, ys[i]);
  }
  const r = sxy / xs.length; // Pearson r of standardised data
  const sign = r < 0 ? -1 : 1;
  // A small grid over the sigmoid's slope and centre (both in standard deviations of the scores):
  // the least-squares surface of a logistic has local minima, and one start often finds a poor one.
  // Slopes stop at 4 on purpose: steeper starts find step functions that fit noise (a jump between
  // two neighbouring scores), lowering the SSE while inflating PLCC.
  const starts: number[][] = [];
  for (const slope of [0.5, 1, 2, 4])
    for (const centre of [0, -1, 1])
      starts.push(model === 'logistic5' ? [sign * (ymax - ymin), slope, centre, 0, 0] : [ymax, ymin, centre, sign / slope]);
  // Nearly the least-squares line (logistic5) / a gentle sigmoid (logistic4).
  starts.push(model === 'logistic5' ? [sign * 0.1, 1, 0, r, 0] : [sign > 0 ? ymax : ymin, sign > 0 ? ymin : ymax, 0, 0.5]);
  return starts;
}

/** Smallest and largest value. */
function extent(v: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    lo = Math.min(lo, v[i]);
    hi = Math.max(hi, v[i]);
  }
  return [lo, hi];
}

/** The extents of standardised data that the shape tests below compare a fit with. */
interface DataExtent {
  xmin: number;
  xmax: number;
  /** Ranges of x and y. */
  xr: number;
  yr: number;
}

/** The finite-minimum test of `LogisticFit.wellPosed`, on standardised parameters. */
function isWellPosed(model: LogisticModel, c: ArrayLike<number>, { xmin, xmax, xr, yr }: DataExtent): boolean {
  if (!(c[2] >= xmin && c[2] <= xmax)) return false;
  if (model === 'logistic5') return Math.abs(c[0]) < 100 * yr && Math.abs(c[1]) * xr < 200;
  return Math.max(Math.abs(c[0]), Math.abs(c[1])) < 100 * yr && Math.abs(c[3]) > xr / 200 && Math.abs(c[3]) < 100 * xr;
}

/** Whether the sigmoid has become a jump: narrower than 1/200 of the scores' range. */
function headsForStep(model: LogisticModel, c: ArrayLike<number>, { xr }: DataExtent): boolean {
  return model === 'logistic5' ? Math.abs(c[1]) * xr >= 200 : Math.abs(c[3]) <= xr / 200;
}

/** Steepness of the sigmoid standing for a step: e^-40 of the jump is below double precision. */
const STEP_STEEPNESS = 40;

interface StepLimit {
  c: Float64Array;
  sse: number;
}

/**
 * The best step limit of the model on standardised data (mean 0, variance 1), in closed form: for
 * every gap between neighbouring distinct scores, the least-squares jump there (plus the line, for
 * logistic5). LM cannot reach these minima (they lie at an infinite slope) but curve_fit drifts
 * towards them when a start is steep enough, so the fit compares against them explicitly.
 */
function bestStepLimit(model: LogisticModel, xs: Float64Array, ys: Float64Array): StepLimit | undefined {
  const n = xs.length;
  const order = Array.from(xs.keys()).sort((a, b) => xs[a] - xs[b]);
  let sxy = 0;
  for (let i = 0; i < n; i++) sxy += xs[i] * ys[i];
  const r = sxy / n;
  // Suffix sums over the points above the split: count, sum of x, sum of y.
  let sx1 = 0;
  let sy1 = 0;
  let best: { k: number; sse: number; a: number; b: number; c: number } | undefined;
  for (let k = n - 1; k >= 1; k--) {
    sx1 += xs[order[k]];
    sy1 += ys[order[k]];
    if (!(xs[order[k - 1]] < xs[order[k]])) continue;
    const n1 = n - k;
    const n0 = k;
    let sse: number;
    let a: number;
    let b = 0;
    let c: number;
    if (model === 'logistic5') {
      // Normal equations of y = a·[x above split] + b·x + c with sum(x) = sum(y) = 0, sum(x²) = sum(y²) = n.
      const d = (n1 * n0 - sx1 * sx1) / n;
      if (!(d > 1e-12 * n)) continue;
      a = (sy1 - sx1 * r) / d;
      b = (n * r - sx1 * a) / n;
      c = (-n1 * a) / n;
      sse = n - (b * n * r + a * sy1);
    } else {
      // Two levels: the means above and below.
      a = sy1 / n1; // level above
      c = -sy1 / n0; // level below
      sse = n - (sy1 * sy1) / n1 - (sy1 * sy1) / n0;
    }
    if (!best || sse < best.sse) best = { k, sse, a, b, c };
  }
  if (!best) return undefined;
  const lo = xs[order[best.k - 1]];
  const hi = xs[order[best.k]];
  const centre = lo + (hi - lo) / 2;
  const half = (hi - lo) / 2;
  const c =
    model === 'logistic5'
      ? Float64Array.of(best.a, STEP_STEEPNESS / half, centre, best.b, best.c + best.a / 2)
      : Float64Array.of(best.a, best.c, centre, half / STEP_STEEPNESS);
  // The closed form's SSE cancels digits: measure it on the data.
  return { c, sse: sseOf(model, c, xs, ys) };
}

/**
 * Fits the 5- (default) or 4-parameter logistic mapping from scores x to MOS y. Never returns
 * garbage: a fit that fails (too few points, constant input, no convergence, a non-finite or
 * worse-than-trivial result) comes back as `{ ok: false, reason, message }`.
 */
export function fitLogistic(x: Vector, y: Vector, options: FitOptions = {}): LogisticResult {
  const model = options.model ?? 'logistic5';
  const p = NPARAMS[model];
  if (!p) throw new TypeError(`unknown logistic model '${String(model)}'`);
  const fail = (reason: LogisticFailureReason, message: string): LogisticFailure => ({ ok: false, model, reason, message });
  const n = Math.min(x.length, y.length);
  if (x.length !== y.length) return fail('too-few-points', `the vectors differ in length (${x.length} and ${y.length})`);
  if (n <= p) return fail('too-few-points', `${model} has ${p} parameters: it needs more than ${p} points, got ${n}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) return fail('non-finite-input', `value ${i} is not a finite number`);
  const [mx, sx] = meanStd(x);
  const [my, sy] = meanStd(y);
  if (!(sx > 0) || !(sy > 0)) return fail('constant-input', `cannot fit a mapping: ${!(sx > 0) ? 'the scores' : 'the MOS values'} are constant`);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = (x[i] - mx) / sx;
    ys[i] = (y[i] - my) / sy;
  }
  const maxIterations = options.maxIterations ?? 500;
  // A warm start alone (bootstrap refits), the grid when it fails.
  const tolerance = options.tolerance ?? 1e-12;
  const warm = options.start ? levenbergMarquardt(model, options.start, xs, ys, maxIterations, tolerance) : undefined;
  const starts = warm?.converged || (warm && options.fallback === false) ? [] : logisticStarts(model, xs, ys);
  let best: LmResult | undefined = warm?.converged ? warm : undefined;
  let unconverged: LmResult | undefined = warm && !warm.converged && Number.isFinite(warm.sse) ? warm : undefined;
  for (const s of starts) {
    const r = levenbergMarquardt(model, s, xs, ys, maxIterations, tolerance);
    if (!Number.isFinite(r.sse)) continue;
    if (r.converged && (!best || r.sse < best.sse)) best = r;
    if (!r.converged && (!unconverged || r.sse < unconverged.sse)) unconverged = r;
  }
  // A run still lowering the SSE at the iteration cap is heading for a minimum at infinity (a
  // sigmoid used as its own near-linear or exponential tail): its mapped values have nearly settled
  // and it is a valid mapping, so the best such run counts when it beats every converged one.
  if (unconverged && (!best || unconverged.sse < best.sse * (1 - 1e-12))) best = unconverged;
  if (!best) return fail('no-convergence', `${model} fit produced no finite result from any starting point`);
  // A best run that steepens without bound (a jump between neighbouring scores) has no well-defined
  // stopping point: two MINPACK builds (scipy's, cminpack) stop such runs at different places and
  // often at different jumps. The fit has degenerated into a step, and the step limits are known in
  // closed form, so the best of them is reported (exact and reproducible), flagged as such.
  // A finite minimum, or a run heading for a line (a sigmoid used as its own tail), is kept as the
  // fit, even where some step would lower the SSE further (a jump that fits noise).
  const [xmin, xmax] = extent(xs);
  const [ymin, ymax] = extent(ys);
  const ext: DataExtent = { xmin, xmax, xr: xmax - xmin, yr: ymax - ymin };
  let wellPosed = isWellPosed(model, best.c, ext);
  let limit: 'step' | undefined;
  const step = headsForStep(model, best.c, ext) ? bestStepLimit(model, xs, ys) : undefined;
  // (Within 1e-9 the run is already at that step: report the exact limit.)
  if (step && Number.isFinite(step.sse) && step.sse <= best.sse * (1 + 1e-9)) {
    best = { c: step.c, sse: step.sse, iterations: 0, converged: false };
    limit = 'step';
    wellPosed = false;
  }
  const c = best.c;
  // Standardised y has SST = n: a fit worse than the constant mean is not a fit.
  if (!(best.sse <= n * (1 + 1e-9))) return fail('degenerate', `${model} fit is worse than a constant (SSE ${best.sse} > SST ${n})`);
  const params =
    model === 'logistic5'
      ? [sy * c[0], c[1] / sx, mx + sx * c[2], (sy * c[3]) / sx, my + sy * c[4] - ((sy * c[3]) / sx) * mx]
      : [my + sy * c[0], my + sy * c[1], mx + sx * c[2], sx * c[3]];
  const predict = (v: number) => my + sy * evalModel(model, c, (v - mx) / sx);
  const fitted = new Float64Array(n);
  let sse = 0;
  for (let i = 0; i < n; i++) {
    fitted[i] = predict(x[i]);
    if (!Number.isFinite(fitted[i])) return fail('degenerate', `${model} fit maps value ${i} to a non-finite number`);
    sse += (fitted[i] - y[i]) ** 2;
  }
  const result: LogisticFit = { ok: true, model, params, fitted, sse, iterations: best.iterations, converged: best.converged, wellPosed, predict };
  if (limit) result.limit = limit;
  return result;
}

/** The fitted parameters on the standardised scale of (x, y): a warm start for refits (bootstrap). */
export function standardisedParams(fit: LogisticFit, x: Vector, y: Vector): number[] {
  const [mx, sx] = meanStd(x);
  const [my, sy] = meanStd(y);
  const b = fit.params;
  if (fit.model === 'logistic5') {
    return [b[0] / sy, b[1] * sx, (b[2] - mx) / sx, (b[3] * sx) / sy, (b[4] - my + b[3] * mx) / sy];
  }
  return [(b[0] - my) / sy, (b[1] - my) / sy, (b[2] - mx) / sx, b[3] / sx];
}
