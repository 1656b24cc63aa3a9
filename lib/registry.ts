// Metrics by CLI name. Adding a metric to the CLI: one entry here.
import { niqe } from './niqe';
import { brisque } from './brisque';
import { gmsd } from './gmsd';
import { msssim } from './msssim';
import { hyperiqa } from './hyperiqa';
import { psnr } from './psnr';
import type { FrMetricFunction, NrMetricFunction } from './run';
import { sharpness } from './sharpness';
import { ssim } from './ssim';

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
