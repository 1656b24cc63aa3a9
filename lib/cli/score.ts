// `iqa score`: files and folders at full speed, results written as they come (one write per
// record, so a killed run leaves only whole lines), --resume, a progress bar on a TTY.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { parse as parseCsv } from 'csv-parse/sync';
import { concurrency as setConcurrency } from '../core/config';
import { IqaError, toIqaError } from '../core/errors';
import { expandPaths } from '../pipelines/files';
import { resolveMetric, type MetricCliOptions } from '../registry';
import { scoreFiles } from '../pipelines/stream';
import { formatRecord, header, type Format, type ScoreRecord } from './output';
import type { ImageInput } from '../core/input';
import type { CallOptions, SettledBatch } from '../core/run';
import type { DeepNrMetric } from '../deep/deep-metric';

/**
 * For a deep model with named extra outputs (manifest head.extras): a scorer whose calls go
 * through detail(), so JSONL records carry the extras (kept by input path until written).
 * undefined for every other metric, or when the model does not load (the plain path reports why).
 */
async function extrasScorer(fn: unknown, options: object, extras: Map<string, Record<string, number>>) {
  const deep = fn as Partial<DeepNrMetric>;
  if (typeof deep.detail !== 'function' || typeof deep.model !== 'function') return undefined;
  const model = await deep.model(options).catch(() => undefined);
  if (!model?.manifest.head.extras?.length) return undefined;
  const detail = deep.detail;
  return {
    batchSettled: async (inputs: readonly ImageInput[], call?: CallOptions & object): Promise<SettledBatch> => {
      const rs = await Promise.all(inputs.map((img) => detail(img, call).then((d) => ({ d }), (e: unknown) => ({ e: toIqaError(e) }))));
      const scores = new Float64Array(inputs.length);
      const errors: (IqaError | null)[] = [];
      rs.forEach((r, i) => {
        if ('e' in r) {
          scores[i] = NaN;
          errors.push(r.e);
          return;
        }
        scores[i] = r.d.score;
        errors.push(null);
        if (typeof inputs[i] === 'string') extras.set(inputs[i] as string, r.d.extras);
      });
      return { scores, errors };
    },
  };
}

export interface ScoreCommandOptions extends MetricCliOptions {
  metric: string;
  format: Format;
  out?: string;
  concurrency?: number;
  limitInputPixels?: number;
  autoOrient?: boolean;
  failOn?: 'error' | 'warning';
  resume?: boolean;
  progress?: boolean;
  batch?: number;
}

/**
 * Inputs already recorded in an output file, and how many of them failed; a partial last line
 * (a killed writer) is cut off.
 */
export function readDone(file: string, format: Format): { done: Set<string>; failed: number } {
  const done = new Set<string>();
  let failed = 0;
  if (!existsSync(file)) return { done, failed };
  let text = readFileSync(file, 'utf8');
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline !== text.length - 1) {
    truncateSync(file, Buffer.byteLength(text.slice(0, lastNewline + 1)));
    text = text.slice(0, lastNewline + 1);
  }
  if (format === 'jsonl') {
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const rec = JSON.parse(line) as { input?: unknown; error?: unknown };
        if (typeof rec.input === 'string') done.add(rec.input);
        if (rec.error) failed++;
      } catch {
        throw new IqaError('ERR_INPUT', `cannot resume: ${file} has a line that is not JSON`);
      }
    }
  } else if (format === 'csv') {
    const rows = parseCsv(text, { columns: true, skip_empty_lines: true }) as { input: string; error_code: string }[];
    for (const r of rows) {
      done.add(r.input);
      if (r.error_code) failed++;
    }
  } else {
    throw new IqaError('ERR_INPUT', '--resume needs --format jsonl or csv');
  }
  return { done, failed };
}

export async function scoreCommand(paths: string[], o: ScoreCommandOptions): Promise<number> {
  const entry = resolveMetric(o.metric);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a full-reference metric: use iqa compare`);
  if (o.resume && !o.out) throw new IqaError('ERR_INPUT', '--resume needs --out FILE');
  if (o.concurrency) setConcurrency(o.concurrency);
  const t0 = performance.now();

  const previous = o.resume ? readDone(o.out as string, o.format) : { done: new Set<string>(), failed: 0 };
  const skip = previous.done;
  const all: string[] = [];
  for await (const p of expandPaths(paths)) all.push(p);
  const todo = all.filter((p) => !skip.has(p));

  const fd = o.out ? openSync(o.out, o.resume ? 'a' : 'w') : undefined;
  const write = (text: string) => {
    if (fd !== undefined) writeSync(fd, text);
    else process.stdout.write(text);
  };
  if (!(o.resume && skip.size > 0)) write(header(o.format));

  const showBar = (o.progress ?? true) && process.stderr.isTTY === true;
  const bar = showBar
    ? new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} | {rate} img/s | ETA {eta_formatted} | failed {failed}', hideCursor: true, etaBuffer: 200 }, undefined)
    : undefined;
  bar?.start(todo.length, 0, { rate: '0', failed: 0 });

  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stopSignal = sig;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let scored = 0;
  let failed = 0;
  try {
    const cores = o.concurrency ?? 2;
    const extras = new Map<string, Record<string, number>>();
    const withExtras = o.format === 'jsonl' ? await extrasScorer(entry.fn, entry.options(o), extras) : undefined;
    const results = scoreFiles(todo, withExtras ?? entry.fn, {
      maxBatch: o.batch ?? Math.max(4, cores * 4),
      concurrency: 2,
      metricOptions: entry.options(o),
      limitInputPixels: o.limitInputPixels,
      autoOrient: o.autoOrient,
      failOn: o.failOn,
    });
    for await (const r of results) {
      const rec: ScoreRecord = r.error
        ? { input: r.input, metric: o.metric, error: { code: r.error.code, message: r.error.message } }
        : { input: r.input, metric: o.metric, score: r.score as number, extras: extras.get(r.input) };
      extras.delete(r.input);
      write(formatRecord(rec, o.format));
      if (r.error) failed++;
      else scored++;
      if (bar) bar.update(scored + failed, { rate: ((scored + failed) / ((performance.now() - t0) / 1000)).toFixed(1), failed });
      if (stopSignal) break;
    }
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (fd !== undefined) {
      fsyncSync(fd);
      closeSync(fd);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const parts = [`scored ${scored}`, `failed ${failed}`];
  if (previous.failed > 0) parts.push(`${previous.failed} failed earlier`);
  if (skip.size > 0) parts.push(`skipped ${all.length - todo.length} already in ${o.out}`);
  if (stopSignal) parts.push(`stopped by ${stopSignal} with ${todo.length - scored - failed} left (rerun with --resume)`);
  process.stderr.write(`iqa score: ${parts.join(', ')} in ${secs.toFixed(1)} s (${((scored + failed) / secs).toFixed(1)} images/s)\n`);
  if (stopSignal) return stopSignal === 'SIGINT' ? 130 : 143;
  return failed + previous.failed > 0 ? 1 : 0;
}
