// `iqa eval`: agreement of a metric with a dataset's subjective scores (lib/metrics), optionally
// with a self-contained HTML report (lib/report).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parse } from 'csv-parse/sync';
import { concurrency as setConcurrency } from '../core/config';
import { DATASET_FORMATS, load, type Dataset, type DatasetFormat, type LabelledImage } from '../evaluation/datasets';
import { IqaError } from '../core/errors';
import { evaluate, type Evaluation } from '../evaluation';
import { resolveMetric, type MetricCliOptions } from '../registry';
import { renderReport } from '../evaluation/report/html';
import { metricOptionFlags } from './metric-options';
import { nonNegativeInt, positiveInt } from './parsers';

export interface EvalOptions extends MetricCliOptions {
  metric?: string;
  labels: string;
  images?: string;
  datasetFormat?: DatasetFormat | 'auto';
  scores?: string;
  format: 'text' | 'json';
  report?: string;
  abs?: boolean;
  skipMissing?: boolean;
  bootstrap: number;
  seed: number;
  concurrency?: number;
}

const CHUNK = 64;

function progress(done: number, total: number, started: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(1e-3, (Date.now() - started) / 1000);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} images ${rate.toFixed(1)}/s `);
  if (done === total) process.stderr.write('\n');
}

/** Scores with a registered metric, in chunks; returns NaN and the error where an image fails. */
async function scoreItems(items: LabelledImage[], o: EvalOptions): Promise<{ scores: Float64Array; errors: (string | null)[] }> {
  const name = o.metric as string;
  const entry = resolveMetric(name);
  if (o.concurrency) setConcurrency(o.concurrency);
  const opts = entry.options(o);
  const scores = new Float64Array(items.length);
  const errors: (string | null)[] = new Array(items.length).fill(null);
  const started = Date.now();
  for (let at = 0; at < items.length; at += CHUNK) {
    const chunk = items.slice(at, at + CHUNK);
    let settled;
    if (entry.kind === 'nr') settled = await entry.fn.batchSettled(chunk.map((i) => i.image), opts);
    else {
      const noRef = chunk.find((i) => !i.ref);
      if (noRef) throw new IqaError('ERR_INPUT', `'${name}' is a full-reference metric but ${noRef.name} has no reference image in the labels`);
      settled = await entry.fn.batchSettled(chunk.map((i) => [i.ref as string, i.image] as const), opts);
    }
    chunk.forEach((_, k) => {
      scores[at + k] = settled.scores[k];
      const e = settled.errors[k];
      if (e) errors[at + k] = `${e.code}: ${e.message}`;
    });
    progress(Math.min(at + CHUNK, items.length), items.length, started);
  }
  return { scores, errors };
}

/** Reads `iqa score` JSONL ({"input","score"} per line) or a CSV with image and score columns. */
export function readScores(file: string): Map<string, number | string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new IqaError('ERR_INPUT', `cannot read scores file ${file}: ${(e as Error).message}`);
  }
  const out = new Map<string, number | string>();
  const first = text.trimStart()[0];
  if (first === '{') {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let rec: { input?: unknown; score?: unknown; error?: { code?: string; message?: string } };
      try {
        rec = JSON.parse(line);
      } catch {
        throw new IqaError('ERR_INPUT', `${file}: line ${i + 1} is not JSON`);
      }
      if (typeof rec.input !== 'string') throw new IqaError('ERR_INPUT', `${file}: line ${i + 1} has no "input"`);
      const score = typeof rec.score === 'number' ? rec.score : rec.score === 'Infinity' ? Infinity : rec.score === '-Infinity' ? -Infinity : undefined;
      out.set(rec.input, score ?? `${rec.error?.code ?? 'ERR_INPUT'}: ${rec.error?.message ?? 'no score'}`);
    });
    return out;
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true });
  } catch (e) {
    throw new IqaError('ERR_INPUT', `${file}: neither JSONL nor CSV (${(e as Error).message})`);
  }
  const header = rows.length ? Object.keys(rows[0]) : [];
  const key = header.find((h) => /^(image|input|path|file|filename|image name|image_name|name)$/i.test(h));
  const val = header.find((h) => /^(score|prediction|pred|value)$/i.test(h));
  if (!key || !val) throw new IqaError('ERR_INPUT', `${file}: a scores CSV needs an image (or input) column and a score column (header: ${header.join(', ')})`);
  rows.forEach((r, i) => {
    const v = Number(r[val]);
    out.set(r[key], r[val] !== '' && Number.isFinite(v) ? v : `ERR_INPUT: row ${i + 2}: score '${r[val]}' is not a number`);
  });
  return out;
}

/** Matches dataset items to precomputed scores by full path, then name, then basename. */
function matchScores(items: LabelledImage[], scores: Map<string, number | string>, file: string): { scores: Float64Array; errors: (string | null)[] } {
  const byBase = new Map<string, number | string | null>();
  for (const [k, v] of scores) {
    const b = basename(k);
    byBase.set(b, byBase.has(b) ? null : v); // null: ambiguous basename
  }
  const byResolved = new Map<string, number | string>();
  for (const [k, v] of scores) byResolved.set(resolve(k), v);
  const out = new Float64Array(items.length);
  const errors: (string | null)[] = [];
  const unmatched: string[] = [];
  items.forEach((it, i) => {
    let v = byResolved.get(it.image) ?? scores.get(it.name);
    if (v === undefined) {
      const b = byBase.get(basename(it.name));
      if (b === null) throw new IqaError('ERR_INPUT', `${file}: several scores have the basename '${basename(it.name)}'; use full paths`);
      v = b;
    }
    if (v === undefined) {
      unmatched.push(it.name);
      out[i] = NaN;
      errors.push('no score in the scores file');
    } else if (typeof v === 'string') {
      out[i] = NaN;
      errors.push(v);
    } else {
      out[i] = v;
      errors.push(null);
    }
  });
  if (unmatched.length === items.length) throw new IqaError('ERR_INPUT', `${file}: none of the ${items.length} labelled images has a score (matched by path, name and basename)`);
  return { scores: out, errors };
}


function jsonResult(metric: string, ds: Dataset, e: Evaluation, failed: { name: string; error: string }[], seconds: number): Record<string, unknown> {
  return {
    metric,
    n: e.n,
    plcc: e.plcc,
    plccRaw: e.plccRaw,
    srocc: e.srocc,
    krocc: e.krocc,
    rmse: e.rmse,
    mae: e.mae,
    plcc4: e.plcc4,
    plccCi: e.plccCi,
    plccRawCi: e.plccRawCi,
    sroccCi: e.sroccCi,
    kroccCi: e.kroccCi,
    rmseCi: e.rmseCi,
    maeCi: e.maeCi,
    abs: e.abs,
    dataset: { format: ds.format, labels: ds.labels, images: ds.images, scoreKind: ds.scoreKind, listed: ds.items.length + ds.skipped.length },
    skipped: ds.skipped.length,
    failed: failed.length,
    mapping: e.mapping,
    bootstrap: e.bootstrap,
    seconds: Number(seconds.toFixed(3)),
    warnings: e.warnings,
    ...(e.groups ? { groups: e.groups } : {}),
    ...(failed.length ? { failures: failed.slice(0, 100) } : {}),
  };
}

function textResult(metric: string, ds: Dataset, e: Evaluation, failed: number, seconds: number): string {
  const f = (v: number | null) => (v === null ? '     –' : v.toFixed(4).padStart(7));
  const c = (ci: [number, number] | null) => (ci ? `[${ci[0].toFixed(4)}, ${ci[1].toFixed(4)}]` : '');
  const lines = [
    `${metric} on ${ds.format} ${ds.labels}: n=${e.n}${ds.skipped.length ? `, ${ds.skipped.length} missing skipped` : ''}${failed ? `, ${failed} failed` : ''}, ${seconds.toFixed(1)} s`,
    `  PLCC   ${f(e.plcc)}  ${c(e.plccCi)}   (after 5-parameter logistic)`,
    `  PLCCr  ${f(e.plccRaw)}  ${c(e.plccRawCi)}   (raw)`,
    `  SROCC  ${f(e.srocc)}  ${c(e.sroccCi)}`,
    `  KROCC  ${f(e.krocc)}  ${c(e.kroccCi)}`,
    `  RMSE   ${f(e.rmse)}  ${c(e.rmseCi)}`,
    `  MAE    ${f(e.mae)}  ${c(e.maeCi)}`,
  ];
  if (e.bootstrap) lines.push(`  95% CIs: percentile bootstrap, ${e.bootstrap.samples} resamples, seed ${e.bootstrap.seed}`);
  if (e.groups) for (const g of e.groups) lines.push(`  ${g.group.padEnd(40)} n=${String(g.n).padStart(4)} SROCC ${f(g.srocc)} PLCC ${f(g.plcc)}`);
  return lines.join('\n') + '\n';
}

export async function evalCommand(o: EvalOptions): Promise<number> {
  const started = Date.now();
  if (!o.scores && !o.metric) throw new IqaError('ERR_INPUT', 'iqa eval needs --metric NAME, or --scores FILE with precomputed scores');
  const ds = load(o.labels, { images: o.images, format: o.datasetFormat, skipMissing: o.skipMissing, requireImages: !o.scores });
  if (ds.items.length === 0) throw new IqaError('ERR_INPUT', `${o.labels}: no images to evaluate`);
  if (ds.skipped.length) process.stderr.write(`iqa eval: skipped ${ds.skipped.length} missing images\n`);
  const metric = o.metric ?? basename(o.scores as string);
  const { scores, errors } = o.scores ? matchScores(ds.items, readScores(o.scores), o.scores) : await scoreItems(ds.items, o);
  const failed: { name: string; error: string }[] = [];
  const kept: number[] = [];
  ds.items.forEach((it, i) => {
    if (errors[i] || !Number.isFinite(scores[i])) failed.push({ name: it.name, error: errors[i] ?? `score ${scores[i]} is not finite` });
    else kept.push(i);
  });
  if (failed.length) process.stderr.write(`iqa eval: ${failed.length} images have no score and are left out (first: ${failed[0].name}: ${failed[0].error})\n`);
  if (kept.length === 0) throw new IqaError('ERR_INPUT', 'no image could be scored');
  const pred = kept.map((i) => scores[i]);
  const mos = kept.map((i) => ds.items[i].mos);
  const hasGroups = kept.some((i) => ds.items[i].group !== undefined);
  const e = evaluate(pred, mos, { abs: o.abs, bootstrap: o.bootstrap, seed: o.seed, groups: hasGroups ? kept.map((i) => ds.items[i].group) : undefined });
  const seconds = (Date.now() - started) / 1000;
  if (o.report) {
    const html = await renderReport({
      title: `${metric} on ${basename(ds.labels)}`,
      metric,
      labels: ds.labels,
      scoreKind: ds.scoreKind,
      evaluation: e,
      items: kept.map((i, k) => ({ name: ds.items[i].name, image: ds.items[i].image, score: scores[i], mos: ds.items[i].mos, mapped: e.mapped[k], group: ds.items[i].group })),
      skipped: ds.skipped.length,
      failed: failed.length,
      seconds,
    });
    try {
      writeFileSync(o.report, html);
    } catch (err) {
      throw new IqaError('ERR_INPUT', `cannot write report ${o.report}: ${(err as Error).message}`);
    }
  }
  if (o.format === 'json') process.stdout.write(JSON.stringify(jsonResult(metric, ds, e, failed, seconds)) + '\n');
  else {
    process.stdout.write(textResult(metric, ds, e, failed.length, seconds));
    for (const w of e.warnings) process.stderr.write(`iqa eval: ${w}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** Adds `iqa eval` to the program. */
export function registerEval(program: Command): void {
  metricOptionFlags(program
    .command('eval'))
    .description("agreement of a metric with a dataset's subjective scores (PLCC, SROCC, KROCC, RMSE with 95% CIs)")
    .option('--metric <name>', 'metric to score the images with (see iqa doctor)')
    .requiredOption('--labels <file>', 'label file: CSV (image,mos[,ref]), BIQ2021, KonIQ-10k, TID2013, LIVE Challenge (.mat) or CSIQ')
    .option('--images <dir>', 'image folder (default: the dataset layout next to the label file)')
    .addOption(new Option('--dataset-format <format>', 'label file format').choices(['auto', ...DATASET_FORMATS]).default('auto'))
    .option('--scores <file>', 'evaluate precomputed scores (iqa score JSONL, or CSV with image,score) instead of scoring')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <file.html>', 'write a self-contained HTML report')
    .option('--abs', 'report correlations as magnitudes (by default a lower-is-better metric gives negative ones)')
    .option('--skip-missing', 'leave out (and count) labelled images that do not exist')
    .option('--bootstrap <n>', 'bootstrap resamples for the 95% CIs (0: none)', nonNegativeInt, 1000)
    .option('--seed <n>', 'seed of the bootstrap', nonNegativeInt, 1)
    .option('--concurrency <n>', 'threads per batch', positiveInt)
    .action(async (o: EvalOptions) => {
      process.exitCode = await evalCommand(o);
    });
}
