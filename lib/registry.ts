// Metrics by CLI name. Adding a metric to the CLI: one entry here.
import { niqe } from './nr/niqe';
import { brisque } from './nr/brisque';
import { gmsd } from './fr/gmsd';
import { msssim } from './fr/ms-ssim';
import { hyperiqa } from './deep/hyperiqa';
import { psnr } from './fr/psnr';
import type { FrMetricFunction, NrMetricFunction } from './core/run';
import { sharpness } from './nr/sharpness';
import { ssim } from './fr/ssim';

/** Options the CLI passes through to a metric (each metric reads those it knows). */
export interface MetricCliOptions {
  variant?: string;
  model?: string;
  range?: string;
}

export interface NrEntry {
  kind: 'nr';
  fn: NrMetricFunction<object>;
  options(cli: MetricCliOptions): object;
}
export interface FrEntry {
  kind: 'fr';
  fn: FrMetricFunction<object>;
  options(cli: MetricCliOptions): object;
}

export const metricRegistry: Record<string, NrEntry | FrEntry> = {
  sharpness: { kind: 'nr', fn: sharpness, options: () => ({}) },
  brisque: { kind: 'nr', fn: brisque as NrMetricFunction<object>, options: (cli) => ({ variant: cli.variant, model: cli.model, range: cli.range }) },
  psnr: { kind: 'fr', fn: psnr, options: () => ({}) },
  niqe: { kind: 'nr', fn: niqe, options: (c) => ({ model: c.model }) },
  ssim: { kind: 'fr', fn: ssim, options: () => ({}) },
  'ms-ssim': { kind: 'fr', fn: msssim, options: () => ({}) },
  gmsd: { kind: 'fr', fn: gmsd, options: () => ({}) },
  hyperiqa: { kind: 'nr', fn: hyperiqa as NrMetricFunction<object>, options: (cli) => ({ model: cli.model }) },
};

export const DEFAULT_NR_METRIC = 'brisque';
