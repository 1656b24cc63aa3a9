#!/usr/bin/env node
// The `iqa` command line (commander). Contract: ../shared/DESIGN.md "CLI contract".
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { concurrency as setConcurrency } from '../config';
import { IqaError, toIqaError } from '../errors';
import { DEFAULT_NR_METRIC, metricRegistry, type MetricCliOptions } from '../registry';
import { versions, listMetrics } from '../versions';
import { registerEval } from './eval';
import { expandPaths } from './files';
import { formatRecord, header, type Format, type ScoreRecord } from './output';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function write(out: Writable, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(text)) resolve();
    else out.once('drain', resolve);
  });
}

interface ScoreOptions extends MetricCliOptions {
  metric: string;
  format: Format;
  out?: string;
  concurrency?: number;
  limitInputPixels?: number;
}

async function scoreCommand(paths: string[], o: ScoreOptions): Promise<number> {
  const entry = metricRegistry[o.metric];
  if (!entry) throw new IqaError('ERR_INPUT', `unknown metric '${o.metric}' (known: ${Object.keys(metricRegistry).join(', ')})`);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a full-reference metric: use iqa compare`);
  if (o.concurrency) setConcurrency(o.concurrency);
  const out: Writable = o.out ? createWriteStream(o.out) : process.stdout;
  const opts = { ...entry.options(o), ...(o.limitInputPixels !== undefined ? { limitInputPixels: o.limitInputPixels } : {}) };
  const chunkSize = Math.max(16, (o.concurrency ?? 2) * 8);
  let failed = 0;
  let chunk: string[] = [];
  await write(out, header(o.format));
  const flush = async () => {
    if (chunk.length === 0) return;
    const { scores, errors } = await entry.fn.batchSettled(chunk, opts);
    for (let i = 0; i < chunk.length; i++) {
      const e = errors[i];
      const rec: ScoreRecord = e ? { input: chunk[i], metric: o.metric, error: { code: e.code, message: e.message } } : { input: chunk[i], metric: o.metric, score: scores[i] };
      if (e) failed++;
      await write(out, formatRecord(rec, o.format));
    }
    chunk = [];
  };
  for await (const p of expandPaths(paths)) {
    chunk.push(p);
    if (chunk.length >= chunkSize) await flush();
  }
  await flush();
  if (o.out) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
  return failed > 0 ? 1 : 0;
}

async function compareCommand(ref: string, dist: string, o: MetricCliOptions & { metric: string; format: 'json' | 'text' }): Promise<number> {
  const entry = metricRegistry[o.metric];
  if (!entry) throw new IqaError('ERR_INPUT', `unknown metric '${o.metric}'`);
  if (entry.kind !== 'fr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a no-reference metric: use iqa score`);
  const score = await entry.fn(ref, dist, entry.options(o));
  if (o.format === 'json') process.stdout.write(JSON.stringify({ metric: o.metric, score: Number.isFinite(score) ? score : String(score) }) + '\n');
  else process.stdout.write(`${o.metric}: ${score}\n`);
  return 0;
}

function doctorCommand(o: { json?: boolean; ortLibrary?: string }): number {
  const v = versions({ ortLibrary: o.ortLibrary });
  const report = { ...v, metrics: listMetrics().map((m) => m.name) };
  if (o.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const ort = 'error' in v.onnxruntime && v.onnxruntime.error ? `unavailable (${v.onnxruntime.error})` : `${(v.onnxruntime as { version: string }).version} from ${(v.onnxruntime as { libraryPath: string }).libraryPath}`;
    const providers = 'providers' in v.onnxruntime ? v.onnxruntime.providers.join(', ') : '-';
    process.stdout.write(
      [
        `iqa-node     ${v.iqaNode} (Node ${v.node}, N-API ${v.napi})`,
        `OpenCV       ${v.opencv}`,
        `libsvm       ${v.libsvm}`,
        `ONNX Runtime ${ort}`,
        `providers    ${providers} (compiled into the library; CUDA also needs its provider library and drivers)`,
        `threads      ${v.threads.batch} per batch, ${v.threads.cpus} CPUs, libuv pool ${v.threads.libuvPool}`,
        `metrics      ${report.metrics.join(', ')}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('iqa').description('Perceptual image quality assessment').showHelpAfterError();
  const metricOpts = (c: Command) =>
    c
      .option('--variant <name>', 'metric variant')
      .option('--model <path>', 'model file')
      .option('--range <path>', 'feature range file (BRISQUE)');
  metricOpts(
    program
      .command('score')
      .description('score images or folders (recursive) with a no-reference metric')
      .argument('<paths...>', 'image files or folders')
      .option('--metric <name>', 'metric', DEFAULT_NR_METRIC)
      .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'table']).default('jsonl'))
      .option('--out <file>', 'write results to a file instead of stdout')
      .option('--concurrency <n>', 'threads per batch', positiveInt)
      .option('--limit-input-pixels <n>', 'largest image in pixels (0: no limit)', (v) => Number(v)),
  ).action(async (paths: string[], o: ScoreOptions) => {
    process.exitCode = await scoreCommand(paths, o);
  });
  metricOpts(
    program
      .command('compare')
      .description('compare a distorted image with its reference')
      .argument('<ref>', 'reference image')
      .argument('<dist>', 'distorted image')
      .requiredOption('--metric <name>', 'full-reference metric')
      .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('json')),
  ).action(async (ref: string, dist: string, o: MetricCliOptions & { metric: string; format: 'json' | 'text' }) => {
    process.exitCode = await compareCommand(ref, dist, o);
  });
  registerEval(program);
  program
    .command('doctor')
    .description('report native library versions, execution providers and threads')
    .option('--json', 'machine-readable output')
    .option('--ort-library <path>', 'ONNX Runtime library to load (default: IQA_ORT_LIBRARY or onnxruntime-node)')
    .action((o: { json?: boolean; ortLibrary?: string }) => {
      process.exitCode = doctorCommand(o);
    });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = toIqaError(e);
    process.stderr.write(`iqa: ${err.code}: ${err.message}\n`);
    process.exitCode = 2;
  }
}

if (require.main === module) void main();
