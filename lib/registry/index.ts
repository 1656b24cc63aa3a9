// One registry of every metric and model, each with its model card (lib/registry/card.ts).
// Classical metrics register their card next to their code (lib/nr, lib/fr); deep models are
// cards in models/zoo/*.json backed by a manifest in the model directories (lib/deep/model-dir.ts).
// The CLI, listMetrics(), `iqa doctor`, `iqa models`, the example server and the README's metric
// table (test/registry.test.ts) all read this.
import { IqaError } from '../core/errors';
import type { FrMetricFunction, NrMetricFunction } from '../core/run';
import { deepFrMetric, deepNrMetric } from '../deep/deep-metric';
import { hyperiqa } from '../deep/hyperiqa';
import { findManifest, isModelName } from '../deep/model-dir';
import { readManifest } from '../deep/manifest';
import { zooCards } from '../deep/zoo';
import { gmsd, gmsdCard } from '../fr/gmsd';
import { msssim, msssimCard } from '../fr/ms-ssim';
import { psnr, psnrCard } from '../fr/psnr';
import { ssim, ssimCard } from '../fr/ssim';
import { brisque, brisqueCard } from '../nr/brisque';
import { niqe, niqeCard } from '../nr/niqe';
import { sharpness, sharpnessCard } from '../nr/sharpness';
import { parseOptionPairs, validateOptions, type MetricCard, type OptionSpec } from './card';

export { validateOptions, parseOptionPairs, type MetricCard, type OptionSpec, type MetricKind } from './card';

/** Options the CLI passes to a metric: the declared flags and the generic --option key=value list. */
export interface MetricCliOptions {
  variant?: string;
  model?: string;
  range?: string;
  /** Repeated `key=value` strings, or already-split pairs. */
  option?: string[] | Record<string, unknown>;
}

export interface NrEntry {
  kind: 'nr';
  card: MetricCard;
  fn: NrMetricFunction<object>;
  /** CLI options checked against the card (ERR_INPUT naming the valid keys/values), typed for fn. */
  options(cli: MetricCliOptions): object;
}
export interface FrEntry {
  kind: 'fr';
  card: MetricCard;
  fn: FrMetricFunction<object>;
  options(cli: MetricCliOptions): object;
}
export type MetricEntry = NrEntry | FrEntry;

/** Options every deep model takes (ModelLoadOptions that make sense from a command line). */
export const DEEP_MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', description: 'manifest path, or a model name in the model directories (default: the card\'s manifest)' },
  device: { type: 'string', enum: ['cpu', 'cuda', 'auto'], default: 'cpu', description: "'auto': CUDA when its provider loads, else CPU" },
  strictDevice: { type: 'boolean', default: false, description: 'with device cuda: ERR_DEVICE instead of falling back to CPU' },
  fp16: { type: 'boolean', description: "use the manifest's fp16 variant (default: on CUDA when present)" },
  maxBatch: { type: 'integer', minimum: 1, description: 'most crops per ONNX Runtime run (default 16 on CPU, 128 on CUDA)' },
  intraOpThreads: { type: 'integer', minimum: 0, description: 'ONNX Runtime threads inside one run (0: its default)' },
  allowSpinning: { type: 'boolean', default: true, description: "ONNX Runtime's threads spin between runs; false: they sleep at once and leave the cores to other work (a server's event loop)" },
  crop: { type: 'string', enum: ['resize', 'center', 'random', 'uniform', 'full', 'grid'], description: "crop policy (default: the manifest's)" },
  crops: { type: 'integer', minimum: 1, description: 'number of random crops' },
  seed: { type: 'integer', minimum: 0, description: 'seed of the random crop positions' },
  shrinkOnLoad: { type: 'boolean', description: "JPEG: decode at 1/2, 1/4 or 1/8 scale to the model's resize size, then resize (faster on large photos; scores change slightly; default: the manifest's, off in every shipped card)" },
};

function cliOptions(card: MetricCard, cli: MetricCliOptions): Record<string, unknown> {
  const pairs = Array.isArray(cli.option) ? parseOptionPairs(cli.option) : { ...(cli.option ?? {}) };
  for (const flag of ['variant', 'model', 'range'] as const) {
    if (cli[flag] === undefined) continue;
    if (flag in pairs) throw new IqaError('ERR_INPUT', `--${flag} and --option ${flag}=... both given`);
    pairs[flag] = cli[flag];
  }
  return validateOptions(card, pairs);
}

function classical(card: MetricCard, fn: NrMetricFunction<object> | FrMetricFunction<object>): MetricEntry {
  const options = (cli: MetricCliOptions) => cliOptions(card, cli);
  return card.kind === 'fr' ? { kind: 'fr', card, fn: fn as FrMetricFunction<object>, options } : { kind: 'nr', card, fn: fn as NrMetricFunction<object>, options };
}

function deepEntry(card: MetricCard, fn: NrMetricFunction<object>): NrEntry {
  const full: MetricCard = { ...card, options: { ...DEEP_MODEL_OPTIONS, ...card.options } };
  return { kind: 'nr', card: full, fn, options: (cli) => cliOptions(full, cli) };
}

function deepFrEntry(card: MetricCard): FrEntry {
  const full: MetricCard = { ...card, options: { ...DEEP_MODEL_OPTIONS, ...card.options } };
  return { kind: 'fr', card: full, fn: deepFrMetric(card.name, card.manifest ?? card.name) as FrMetricFunction<object>, options: (cli) => cliOptions(full, cli) };
}

function build(): Record<string, MetricEntry> {
  const reg: Record<string, MetricEntry> = {
    brisque: classical(brisqueCard, brisque as NrMetricFunction<object>),
    niqe: classical(niqeCard, niqe),
    sharpness: classical(sharpnessCard, sharpness),
    psnr: classical(psnrCard, psnr),
    ssim: classical(ssimCard, ssim),
    'ms-ssim': classical(msssimCard, msssim),
    gmsd: classical(gmsdCard, gmsd),
  };
  // Deep models: one card each in models/zoo. hyperiqa keeps its named export.
  const named: Record<string, NrMetricFunction<object>> = { hyperiqa: hyperiqa as NrMetricFunction<object> };
  for (const card of zooCards().values()) {
    if ((card.kind !== 'nr' && card.kind !== 'fr') || card.available !== undefined && card.available !== true) continue;
    if (card.kind === 'fr') {
      reg[card.name] = deepFrEntry(card);
      continue;
    }
    reg[card.name] = deepEntry(card, named[card.name] ?? (deepNrMetric(card.name, card.manifest ?? card.name) as NrMetricFunction<object>));
  }
  return reg;
}

/** Metrics that `iqa score` / `iqa compare` / streams / the queue take by name. */
export const metricRegistry: Record<string, MetricEntry> = build();

export const DEFAULT_NR_METRIC = 'brisque';

/** Every card: the registered metrics, then the zoo's face, video and unavailable models. */
export function registryCards(): MetricCard[] {
  const seen = new Set(Object.keys(metricRegistry));
  return [...Object.values(metricRegistry).map((e) => e.card), ...[...zooCards().values()].filter((c) => !seen.has(c.name))];
}

const unregistered = new Map<string, MetricEntry>();

/**
 * The entry for a metric name: a registered metric, or a model manifest of that name found in the
 * model directories (a user's own model: its card is made from the manifest).
 * Unknown names are ERR_INPUT listing the known ones.
 */
export function resolveMetric(name: string): MetricEntry {
  if (Object.prototype.hasOwnProperty.call(metricRegistry, name)) return metricRegistry[name];
  const card = zooCards().get(name);
  if (card) {
    const why = card.available !== undefined && card.available !== true ? card.available : `a ${card.kind} model: use its own command (iqa ${card.kind} score)`;
    throw new IqaError('ERR_INPUT', `'${name}' cannot be used here: ${why}`);
  }
  const cached = unregistered.get(name);
  if (cached) return cached;
  if (isModelName(name)) {
    const path = findManifest(name);
    if (path) {
      const { manifest } = readManifest(path);
      const card: MetricCard = {
        name,
        kind: manifest.task === 'fr-iqa' ? 'fr' : 'nr',
        title: manifest.description ?? name,
        direction: manifest.score.higherIsBetter ? 'higher' : 'lower',
        range: manifest.score.range,
        reference: { paper: manifest.description ?? 'user model', checkedAgainst: 'none known to the registry (a user model)' },
        licence: manifest.source.license,
        commercialUse: false,
        options: {},
        manifest: path,
      };
      const entry = card.kind === 'fr' ? deepFrEntry(card) : deepEntry({ ...card, manifest: name }, deepNrMetric(name, path) as NrMetricFunction<object>);
      unregistered.set(name, entry);
      return entry;
    }
  }
  throw new IqaError('ERR_INPUT', `unknown metric '${name}' (known: ${Object.keys(metricRegistry).join(', ')}; or a model name in the model directories)`);
}

/** One line per registered metric (the cards, with the fields earlier versions returned). */
export function listMetrics(): (MetricCard & { fullReference: boolean; higherIsBetter: boolean; description: string })[] {
  return registryCards().map((c) => ({ ...c, fullReference: c.kind === 'fr', higherIsBetter: c.direction === 'higher', description: c.title }));
}
