// Agreement of a quality metric with subjective scores, computed as the IQA literature does.
// Sign convention: correlations keep their sign, so a lower-is-better metric (BRISQUE, NIQE)
// reports negative PLCC/SROCC/KROCC; pass `abs: true` (CLI `--abs`) for magnitudes.
import { IqaError } from '../core/errors';
import { checkPair, kendall, pearson, spearman, type Vector } from './correlation';
import { fitLogistic, type LogisticModel } from './logistic';

export { pearson, spearman, kendall, rankAverage, type Vector } from './correlation';
export { fitLogistic, type LogisticFit, type LogisticFailure, type LogisticFailureReason, type LogisticResult, type LogisticModel, type FitOptions } from './logistic';
export { bootstrapIntervals, quantileSorted, type BootstrapOptions } from './bootstrap';
export { seededRandom } from './prng';
export { evaluate, type Evaluation, type EvaluateOptions, type GroupResult, type Interval } from './evaluate';

/** Pearson correlation of the raw scores with MOS (no mapping). */
export const plccRaw = (pred: Vector, mos: Vector): number => pearson(pred, mos);
/** Spearman rank-order correlation (average ranks for ties). */
export const srocc = (pred: Vector, mos: Vector): number => spearman(pred, mos);
/** Kendall rank-order correlation, tau-b. */
export const krocc = (pred: Vector, mos: Vector): number => kendall(pred, mos);

function mapped(pred: Vector, mos: Vector, model: LogisticModel | undefined, what: string): Float64Array {
  checkPair(pred, mos, what);
  const fit = fitLogistic(pred, mos, { model });
  if (!fit.ok) throw new IqaError('ERR_INPUT', `${what}: ${fit.message}`);
  return fit.fitted;
}

/** PLCC after the logistic mapping (5-parameter by default), signed by the mapping's direction. */
export function plcc(pred: Vector, mos: Vector, opts: { model?: LogisticModel } = {}): number {
  const f = mapped(pred, mos, opts.model, 'PLCC');
  return (pearson(pred, f) < 0 ? -1 : 1) * Math.abs(pearson(f, mos));
}

/** Root-mean-square error of the mapped scores against MOS. */
export function rmse(pred: Vector, mos: Vector, opts: { model?: LogisticModel } = {}): number {
  const f = mapped(pred, mos, opts.model, 'RMSE');
  let s = 0;
  for (let i = 0; i < f.length; i++) s += (f[i] - mos[i]) ** 2;
  return Math.sqrt(s / f.length);
}

/** Mean absolute error of the mapped scores against MOS. */
export function mae(pred: Vector, mos: Vector, opts: { model?: LogisticModel } = {}): number {
  const f = mapped(pred, mos, opts.model, 'MAE');
  let s = 0;
  for (let i = 0; i < f.length; i++) s += Math.abs(f[i] - mos[i]);
  return s / f.length;
}
