// One call that produces every number `iqa eval` reports, with the literature's conventions.
import { IqaError } from '../core/errors';
import { bootstrapIntervals, type BootstrapOptions } from './bootstrap';
import { checkPair, kendall, pearson, spearman, type Vector } from './correlation';
import { fitLogistic, standardisedParams, type LogisticFit, type LogisticModel } from './logistic';

export interface EvaluateOptions {
  /**
   * Report correlations as magnitudes. By default they keep their sign, so a lower-is-better
   * metric (BRISQUE, NIQE) reports negative correlations; `plcc` (after the mapping) carries the
   * direction of the fitted mapping. With `abs: true` a negative estimate is reflected together
   * with its interval ([-0.7, -0.6] becomes [0.6, 0.7]).
   */
  abs?: boolean;
  /** Mapping for plcc/rmse/mae (default 'logistic5'; the 4-parameter fit is also reported). */
  model?: LogisticModel;
  /** Bootstrap resamples for the 95% intervals (default 1000; 0 disables them). */
  bootstrap?: number;
  seed?: number;
  /** Optional group label per item (e.g. TID2013 distortion type): adds a per-group breakdown. */
  groups?: readonly (string | undefined)[];
}

export type Interval = [number, number] | null;

export interface GroupResult {
  group: string;
  n: number;
  plcc: number | null;
  plccRaw: number | null;
  srocc: number | null;
  krocc: number | null;
  rmse: number | null;
}

export interface Evaluation {
  n: number;
  /** PLCC after the 5-parameter logistic mapping (null when the fit failed: see warnings). */
  plcc: number | null;
  plccRaw: number | null;
  srocc: number | null;
  krocc: number | null;
  /** RMSE and MAE of the mapped scores against MOS, in MOS units. */
  rmse: number | null;
  mae: number | null;
  /** PLCC after the 4-parameter logistic. */
  plcc4: number | null;
  plccCi: Interval;
  plccRawCi: Interval;
  sroccCi: Interval;
  kroccCi: Interval;
  rmseCi: Interval;
  maeCi: Interval;
  abs: boolean;
  /** The fitted mapping; `wellPosed: false` when its minimum lies at infinity, `limit: 'step'` when it is a jump (see LogisticFit). */
  mapping: { model: LogisticModel; params: number[]; wellPosed: boolean; limit?: 'step' } | null;
  mapping4: { model: 'logistic4'; params: number[] } | null;
  bootstrap: { samples: number; seed: number; level: number } | null;
  warnings: string[];
  groups?: GroupResult[];
  /** The mapped prediction of each item (NaN where no mapping could be fitted); not serialised by the CLI. */
  mapped: Float64Array;
}

/**
 * LM iterations per bootstrap refit. Warm-started from the full fit, a resample's optimum lies
 * ~1/sqrt(n) away, so large samples need few: at n = 3,000 and 10,000, 10 and 20 iterations give
 * the same intervals to 4 decimals; small samples get up to 100 (a full fit allows 500 per start).
 */
function refitIterations(n: number): number {
  return Math.min(100, Math.max(10, Math.ceil(30000 / n)));
}

function attempt(warnings: string[], f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    warnings.push(e instanceof Error ? e.message : String(e));
    return null;
  }
}

function mappedError(fit: LogisticFit, y: Vector): { rmse: number; mae: number } {
  return errorsOf(fit.fitted, y);
}

function errorsOf(f: Vector, y: Vector): { rmse: number; mae: number } {
  let se = 0;
  let ae = 0;
  for (let i = 0; i < y.length; i++) {
    const d = f[i] - y[i];
    se += d * d;
    ae += Math.abs(d);
  }
  return { rmse: Math.sqrt(se / y.length), mae: ae / y.length };
}

/** Direction of a fitted mapping: +1 when it rises with the score, -1 when it falls. */
function direction(x: Vector, fitted: Float64Array): number {
  try {
    return pearson(x, fitted) < 0 ? -1 : 1;
  } catch {
    return 1;
  }
}

function pick(v: Vector, idx: Uint32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = v[idx[i]];
  return out;
}

/**
 * PLCC (raw and after the logistic mapping), SROCC, KROCC, RMSE and MAE of predictions against
 * MOS, with percentile-bootstrap 95% intervals. Undefined quantities (a constant vector, a mapping
 * that cannot be fitted) are null with a message in `warnings`, never NaN.
 */
export function evaluate(pred: Vector, mos: Vector, options: EvaluateOptions = {}): Evaluation {
  const n = checkPair(pred, mos, 'evaluate', 1);
  const abs = options.abs ?? false;
  const model = options.model ?? 'logistic5';
  const warnings: string[] = [];
  const plccRaw = attempt(warnings, () => pearson(pred, mos));
  const srocc = attempt(warnings, () => spearman(pred, mos));
  const krocc = attempt(warnings, () => kendall(pred, mos));
  const fit = fitLogistic(pred, mos, { model });
  const fit4 = model === 'logistic4' ? fit : fitLogistic(pred, mos, { model: 'logistic4' });
  let plcc: number | null = null;
  let plcc4: number | null = null;
  let rmse: number | null = null;
  let mae: number | null = null;
  let sign = 1;
  if (fit.ok) {
    sign = direction(pred, fit.fitted);
    plcc = attempt(warnings, () => sign * Math.abs(pearson(fit.fitted, mos)));
    ({ rmse, mae } = mappedError(fit, mos));
    if (fit.limit === 'step')
      warnings.push(
        `the ${model} mapping degenerated into a jump at score ${fit.params[2].toPrecision(6)} (no finite sigmoid fits as well): plcc, rmse and mae describe that step and flatter the metric; compare plccRaw and srocc`,
      );
    else if (!fit.converged) warnings.push(`the ${model} fit was still improving after its iteration limit (its best parameters lie at infinity); plcc uses the best mapping found`);
  } else warnings.push(`no ${model} mapping: ${fit.message}; plcc, rmse and mae are null`);
  if (fit4.ok) plcc4 = attempt(warnings, () => direction(pred, fit4.fitted) * Math.abs(pearson(fit4.fitted, mos)));
  else if (model !== 'logistic4') warnings.push(`no logistic4 mapping: ${fit4.message}`);

  const samples = options.bootstrap ?? 1000;
  let cis: Record<'plcc' | 'plccRaw' | 'srocc' | 'krocc' | 'rmse' | 'mae', Interval> = { plcc: null, plccRaw: null, srocc: null, krocc: null, rmse: null, mae: null };
  let bootstrap: Evaluation['bootstrap'] = null;
  if (samples > 0 && n >= 3) {
    // plcc, rmse and mae refit the mapping on every resample (the estimator includes the fit),
    // warm-started from the full-data fit: LM then needs a few iterations instead of the grid.
    let refit: { plcc: number; rmse: number; mae: number } | null = null;
    const r = bootstrapIntervals(
      n,
      {
        plcc: () => (refit ? refit.plcc : NaN),
        rmse: () => (refit ? refit.rmse : NaN),
        mae: () => (refit ? refit.mae : NaN),
        plccRaw: (idx) => pearson(pick(pred, idx), pick(mos, idx)),
        srocc: (idx) => spearman(pick(pred, idx), pick(mos, idx)),
        krocc: (idx) => kendall(pick(pred, idx), pick(mos, idx)),
      },
      { samples, seed: options.seed ?? 1 },
      fit.ok
        ? (idx) => {
            refit = null;
            const p = pick(pred, idx);
            const m = pick(mos, idx);
            // A resample with constant scores or MOS has no standardised scale (non-finite start).
            const start = standardisedParams(fit, p, m);
            if (!start.every(Number.isFinite)) return;
            const f = fitLogistic(p, m, { model, start, fallback: false, maxIterations: refitIterations(n), tolerance: 1e-9 });
            if (!f.ok) return;
            try {
              refit = { plcc: Math.abs(pearson(f.fitted, m)), ...errorsOf(f.fitted, m) };
            } catch {
              // constant mapped values: PLCC undefined on this resample (left out of the interval)
            }
          }
        : undefined,
    );
    bootstrap = { samples: r.samples, seed: r.seed, level: r.level };
    cis = { plcc: r.plcc.ci, plccRaw: r.plccRaw.ci, srocc: r.srocc.ci, krocc: r.krocc.ci, rmse: r.rmse.ci, mae: r.mae.ci };
    // plcc's resamples are magnitudes; give them the mapping's direction like the estimate.
    if (cis.plcc && sign < 0) cis.plcc = [-cis.plcc[1], -cis.plcc[0]];
    for (const k of ['plcc', 'plccRaw', 'srocc', 'krocc', 'rmse', 'mae'] as const)
      if (!cis[k] && (k === 'plccRaw' || k === 'srocc' || k === 'krocc' || fit.ok))
        warnings.push(`no bootstrap interval for ${k}: it is undefined in more than 10% of the ${samples} resamples`);
  } else if (samples > 0) warnings.push(`no bootstrap intervals: ${n} items are too few`);

  const orient = (v: number | null, ci: Interval): [number | null, Interval] => {
    if (!abs || v === null || v >= 0) return [v, ci];
    return [-v, ci ? [-ci[1], -ci[0]] : null];
  };
  const [plccO, plccCi] = orient(plcc, cis.plcc);
  const [plccRawO, plccRawCi] = orient(plccRaw, cis.plccRaw);
  const [sroccO, sroccCi] = orient(srocc, cis.srocc);
  const [kroccO, kroccCi] = orient(krocc, cis.krocc);
  const result: Evaluation = {
    n,
    plcc: plccO,
    plccRaw: plccRawO,
    srocc: sroccO,
    krocc: kroccO,
    rmse,
    mae,
    plcc4: abs && plcc4 !== null ? Math.abs(plcc4) : plcc4,
    plccCi,
    plccRawCi,
    sroccCi,
    kroccCi,
    rmseCi: cis.rmse,
    maeCi: cis.mae,
    abs,
    mapping: fit.ok ? { model, params: fit.params, wellPosed: fit.wellPosed, ...(fit.limit ? { limit: fit.limit } : {}) } : null,
    mapping4: fit4.ok ? { model: 'logistic4', params: fit4.params } : null,
    bootstrap,
    warnings,
    mapped: fit.ok ? fit.fitted : new Float64Array(n).fill(NaN),
  };
  if (options.groups) result.groups = groupBreakdown(pred, mos, options.groups, fit.ok ? fit.fitted : null, abs);
  return result;
}

/**
 * Per-group numbers (e.g. per TID2013 distortion type): rank correlations and raw PLCC within
 * the group; plcc and rmse use the global mapping (the usual practice, since one mapping is fitted
 * per metric), so a group whose scores are off the global curve shows it.
 */
function groupBreakdown(pred: Vector, mos: Vector, groups: readonly (string | undefined)[], fitted: Float64Array | null, abs: boolean): GroupResult[] {
  if (groups.length !== pred.length) throw new IqaError('ERR_INPUT', `evaluate: ${groups.length} group labels for ${pred.length} items`);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    if (g === undefined) return;
    if (!members.has(g)) members.set(g, []);
    members.get(g)!.push(i);
  });
  const ignore: string[] = [];
  const o = (v: number | null) => (v !== null && abs ? Math.abs(v) : v);
  return [...members.entries()].map(([group, ids]) => {
    const idx = Uint32Array.from(ids);
    const p = pick(pred, idx);
    const m = pick(mos, idx);
    const f = fitted ? pick(fitted, idx) : null;
    return {
      group,
      n: ids.length,
      plcc: f ? o(attempt(ignore, () => pearson(f, m))) : null,
      plccRaw: o(attempt(ignore, () => pearson(p, m))),
      srocc: o(attempt(ignore, () => spearman(p, m))),
      krocc: o(attempt(ignore, () => kendall(p, m))),
      rmse: f ? Math.sqrt(f.reduce((s, v, i) => s + (v - m[i]) ** 2, 0) / ids.length) : null,
    };
  });
}
