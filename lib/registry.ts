// Metrics by CLI name. Adding a metric to the CLI: one entry here.
import { hyperiqa } from './hyperiqa';
import { psnr } from './psnr';
import type { FrMetricFunction, NrMetricFunction } from './run';
import { sharpness } from './sharpness';

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
  psnr: { kind: 'fr', fn: psnr, options: () => ({}) },
  hyperiqa: { kind: 'nr', fn: hyperiqa as NrMetricFunction<object>, options: (cli) => ({ model: cli.model }) },
};

export const DEFAULT_NR_METRIC = 'sharpness';
