// `iqa submit`, `iqa worker`, `iqa results`: scoring on a BullMQ queue (see ../queue.ts).
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { DEFAULT_QUEUE_NAME, DEFAULT_REDIS_URL, readResults, startWorker, submitPaths, waitForResults, queueCounts, type QueueResult } from '../pipelines/queue';
import { IqaError } from '../core/errors';
import { DEFAULT_NR_METRIC, resolveMetric, type MetricCliOptions } from '../registry';
import { metricOptionFlags } from './metric-options';
import { expandPaths } from '../pipelines/files';
import { formatRecord, header, type Format } from './output';
import { nonNegativeInt, positiveInt } from './parsers';


function write(out: Writable, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(text)) resolve();
    else out.once('drain', resolve);
  });
}

interface Conn {
  redis: string;
  queue: string;
}

const connOpts = (c: Command) => c.option('--redis <url>', 'Redis URL', DEFAULT_REDIS_URL).option('--queue <name>', 'queue name', DEFAULT_QUEUE_NAME);

/** Writes results as they come; returns how many were errors. */
async function writeResults(results: AsyncIterable<QueueResult>, o: { format: Format; out?: string }): Promise<{ n: number; failed: number }> {
  const out: Writable = o.out ? createWriteStream(o.out) : process.stdout;
  let n = 0;
  let failed = 0;
  await write(out, header(o.format));
  for await (const r of results) {
    n++;
    if (r.error) failed++;
    await write(out, formatRecord(r, o.format));
  }
  if (o.out) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { n, failed };
}

interface SubmitCli extends Conn, MetricCliOptions {
  metric: string;
  batch: number;
  attempts: number;
  backoff: number;
  skipDone: boolean;
  wait?: boolean;
  format: Format;
  out?: string;
}

async function submitCommand(paths: string[], o: SubmitCli): Promise<number> {
  const metricOptions: MetricCliOptions = {};
  if (o.variant) metricOptions.variant = o.variant;
  if (o.model) metricOptions.model = o.model;
  if (o.range) metricOptions.range = o.range;
  if (o.option) metricOptions.option = o.option;
  // Usage errors (unknown metric, bad option) now, not in every job on the workers.
  const entry = resolveMetric(o.metric);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a full-reference metric: the queue scores single files`);
  entry.options(metricOptions);
  const summary = await submitPaths(expandPaths(paths), {
    redis: o.redis,
    queue: o.queue,
    metric: o.metric,
    metricOptions,
    batchSize: o.batch,
    attempts: o.attempts,
    backoffMs: o.backoff,
    skipDone: o.skipDone,
  });
  process.stderr.write(`iqa submit: ${summary.paths.length} paths, ${summary.submitted} enqueued on '${o.queue}', ${summary.skipped} already had a ${o.metric} result\n`);
  if (!o.wait) return 0;
  const { n, failed } = await writeResults(waitForResults(summary.paths, { redis: o.redis, queue: o.queue, metric: o.metric }), o);
  process.stderr.write(`iqa submit: ${n} results, ${n - failed} scored, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

interface WorkerCli extends Conn {
  concurrency: number;
  maxBatch?: number;
  threads?: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
  verbose?: boolean;
}

async function workerCommand(o: WorkerCli): Promise<number> {
  const log = (obj: object) => process.stdout.write(JSON.stringify({ t: Date.now(), pid: process.pid, ...obj }) + '\n');
  let scored = 0;
  const worker = await startWorker({
    redis: o.redis,
    queue: o.queue,
    concurrency: o.concurrency,
    maxBatch: o.maxBatch,
    threads: o.threads,
    lockDurationMs: o.lockDuration,
    stalledIntervalMs: o.stalledInterval,
    maxStalledCount: o.maxStalled,
    onEvent: (e) => {
      if (e.type === 'batch') {
        scored += e.jobs.length;
        if (o.verbose) log({ event: 'batch', metric: e.metric, jobs: e.jobs, ms: Math.round(e.ms * 10) / 10 });
      } else if (e.type === 'failed') {
        if (o.verbose) log({ event: 'failed', jobId: e.jobId, path: e.path, error: e.error, final: e.final });
      } else if (e.type === 'stalled') {
        if (o.verbose) log({ event: 'stalled', jobId: e.jobId });
      } else process.stderr.write(`iqa worker: ${e.message}\n`);
    },
  });
  process.stderr.write(`iqa worker ${worker.id}: waiting for jobs on '${o.queue}' at ${o.redis} (concurrency ${o.concurrency}); SIGINT/SIGTERM stops after the active jobs\n`);
  if (o.verbose) log({ event: 'ready', id: worker.id });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        // A second signal: stop now; the active jobs go back to the queue when their locks expire.
        process.stderr.write(`iqa worker: ${sig} again, exiting without waiting\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`iqa worker: ${sig}, finishing active jobs (send it again to exit at once)\n`);
      resolve();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  await worker.close();
  process.stderr.write(`iqa worker: stopped after ${scored} jobs\n`);
  return 0;
}

interface ResultsCli extends Conn {
  metric: string;
  format: Format;
  out?: string;
  counts?: boolean;
}

async function resultsCommand(o: ResultsCli): Promise<number> {
  if (o.counts) {
    process.stdout.write(JSON.stringify(await queueCounts({ redis: o.redis, queue: o.queue })) + '\n');
    return 0;
  }
  const { failed } = await writeResults(readResults({ redis: o.redis, queue: o.queue, metric: o.metric }), o);
  return failed > 0 ? 1 : 0;
}

const formatOption = () => new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'table']).default('jsonl');

/** Adds submit, worker and results to the `iqa` program. */
export function registerQueueCommands(program: Command): void {
  connOpts(metricOptionFlags(
    program
      .command('submit')
      .description('enqueue images or folders (recursive) for scoring by `iqa worker`s on a BullMQ queue (Redis)')
      .argument('<paths...>', 'image files or folders, on storage every worker can read')
      .option('--metric <name>', 'no-reference metric', DEFAULT_NR_METRIC)
      .option('--batch <n>', 'jobs per addBulk call', positiveInt, 1000)
      .option('--attempts <n>', 'tries per job before it fails (unrecoverable errors fail at once)', positiveInt, 3)
      .option('--backoff <ms>', 'first retry delay, doubling each retry', positiveInt, 1000)
      .option('--no-skip-done', 'enqueue paths that already have a result too')
      .option('--wait', 'wait for every result and write them (completion order)')
      .addOption(formatOption())
      .option('--out <file>', 'with --wait: write results to a file instead of stdout'),
  'model file or deep model manifest (as the workers see it)')).action(async (paths: string[], o: SubmitCli) => {
    process.exitCode = await submitCommand(paths, o);
  });
  connOpts(
    program
      .command('worker')
      .description('score jobs from a BullMQ queue until SIGINT/SIGTERM (run any number, on any machines)')
      .option('--concurrency <n>', 'jobs held at once', positiveInt, 8)
      .option('--max-batch <n>', 'jobs per native batch call (default: concurrency)', positiveInt)
      .option('--threads <n>', 'threads per batch call (default: all cores)', positiveInt)
      .option('--lock-duration <ms>', "job lock: a dead worker's jobs are retried after this", positiveInt)
      .option('--stalled-interval <ms>', 'how often to look for stalled jobs', positiveInt)
      .option('--max-stalled <n>', 'times a job may stall before it fails', nonNegativeInt)
      .option('--verbose', 'log each batch, failure and recovered stalled job as JSON lines on stdout'),
  ).action(async (o: WorkerCli) => {
    process.exitCode = await workerCommand(o);
  });
  connOpts(
    program
      .command('results')
      .description('write every stored result of a metric (one per path) from the queue')
      .option('--metric <name>', 'metric', DEFAULT_NR_METRIC)
      .addOption(formatOption())
      .option('--out <file>', 'write results to a file instead of stdout')
      .option('--counts', 'print the queue job counts as JSON instead'),
  ).action(async (o: ResultsCli) => {
    process.exitCode = await resultsCommand(o);
  });
}
