// Scoring past one machine on BullMQ (Redis): submit file paths as jobs, run any number of
// workers on any machines, collect one result per path.
//
// Layout in Redis (prefix `bull`, BullMQ's default):
//   bull:<queue>:*                    BullMQ's own keys (wait/active/delayed/failed sets, job hashes)
//   bull:<queue>:results:<metric>     hash: absolute path -> JSON result {input, metric, score} or
//                                     {input, metric, error: {code, message}} (the `iqa score` JSONL record)
// One job per (metric, path), its id a hash of both, so resubmitting a path already queued adds
// nothing, and `submit` skips paths that already have a result. BullMQ delivers a job at least
// once (a job whose worker dies is moved back to wait once its lock expires); the result is
// written with HSET under the path, so a job scored twice still leaves exactly one result.
// Errors that retrying cannot fix (ERR_INPUT, ERR_DECODE, ERR_TOO_LARGE) fail the job at once
// (UnrecoverableError); others are retried with exponential backoff up to `attempts`. Either
// way the final error is written as the path's result and the job stays in the failed set.
//
// bullmq is an optional peer dependency: it is loaded only when these functions run.
import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { Job, Queue as BullQueue, QueueOptions as BullQueueOptions } from 'bullmq';
import { concurrency as setConcurrency } from '../core/config';
import { IqaError, isErrorCode, toIqaError, type ErrorCode } from '../core/errors';
import { resolveMetric, type MetricCliOptions, type MetricEntry, type NrEntry } from '../registry';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE_NAME = 'iqa';
const PREFIX = 'bull';

/** Codes that fail a job at once: the same file gives the same error on any machine. */
export const UNRECOVERABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['ERR_INPUT', 'ERR_DECODE', 'ERR_TOO_LARGE']);

export interface QueueConnectionOptions {
  /** redis:// or rediss:// URL (user, password, db as /N). Default redis://127.0.0.1:6379. */
  redis?: string;
  /** Queue name (no ':'). Default 'iqa'. */
  queue?: string;
  /** How long to wait for Redis before failing with ERR_DEVICE (default 10 s). */
  connectTimeoutMs?: number;
}

/** One result per path, the same record `iqa score` writes. */
export interface QueueResult {
  input: string;
  metric: string;
  score?: number;
  error?: { code: ErrorCode; message: string };
}

interface ScoreJobData {
  path: string;
  metric: string;
  options: MetricCliOptions;
}

type BullMQ = typeof import('bullmq');

/** The ioredis calls used here (BullMQ's client type narrows them away). */
interface RedisLike {
  hset(key: string, ...fieldsAndValues: string[]): Promise<number>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  hsetnx(key: string, field: string, value: string): Promise<number>;
  hscan(key: string, cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
}

async function redisOf(conn: { client: Promise<unknown> }): Promise<RedisLike> {
  return (await conn.client) as RedisLike;
}

function bullmq(): BullMQ {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('bullmq') as BullMQ;
  } catch (e) {
    throw new IqaError('ERR_INPUT', 'the queue commands need the optional peer dependency bullmq (npm install bullmq)', { cause: e });
  }
}

/** ioredis options from a redis:// URL (BullMQ builds its connections from these). */
export function redisOptions(url: string = DEFAULT_REDIS_URL): Record<string, unknown> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IqaError('ERR_INPUT', `invalid Redis URL '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new IqaError('ERR_INPUT', `Redis URL must start with redis:// or rediss://, got '${url}'`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new IqaError('ERR_INPUT', `invalid Redis database in '${url}'`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ workers block on Redis and must retry forever; they require this.
    maxRetriesPerRequest: null,
  };
}

function queueName(o: QueueConnectionOptions): string {
  const name = o.queue ?? DEFAULT_QUEUE_NAME;
  if (!name || name.includes(':')) throw new IqaError('ERR_INPUT', `invalid queue name '${name}' (non-empty, no ':')`);
  return name;
}

export function resultsKey(queue: string, metric: string): string {
  return `${PREFIX}:${queue}:results:${metric}`;
}

/** The job id of (metric, path): stable, so a resubmitted path maps to the same job. */
export function jobIdFor(metric: string, path: string): string {
  // BullMQ ids may not contain ':' nor look like integers; a hex digest with a letter prefix is safe.
  return 'j' + createHash('sha1').update(metric).update('\0').update(path).digest('hex');
}

async function ready<T extends { waitUntilReady(): Promise<unknown>; close(): Promise<void> }>(conn: T, url: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IqaError('ERR_DEVICE', `cannot reach Redis at ${url} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([conn.waitUntilReady(), timeout]);
    return conn;
  } catch (e) {
    await conn.close().catch(() => undefined);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function openQueue(o: QueueConnectionOptions): Promise<BullQueue> {
  const { Queue } = bullmq();
  const url = o.redis ?? DEFAULT_REDIS_URL;
  const q = new Queue(queueName(o), { connection: redisOptions(url) as BullQueueOptions['connection'], prefix: PREFIX });
  q.on('error', () => undefined); // connection errors surface through ready() and the calls
  return ready(q, url, o.connectTimeoutMs ?? 10_000);
}

/** The metric's entry: from `registry` when a caller gives its own, else the package registry. */
function nrEntry(registry: Record<string, MetricEntry> | undefined, metric: string): NrEntry {
  let entry: MetricEntry | undefined;
  if (registry) entry = Object.prototype.hasOwnProperty.call(registry, metric) ? registry[metric] : undefined;
  else entry = resolveMetric(metric);
  if (!entry) throw new IqaError('ERR_INPUT', `unknown metric '${metric}' (known: ${Object.keys(registry ?? {}).join(', ')})`);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${metric}' is a full-reference metric: the queue scores single files`);
  return entry;
}

function parseResult(json: string | null): QueueResult | null {
  if (json === null) return null;
  const r = JSON.parse(json) as QueueResult & { score?: number | string };
  if (typeof r.score === 'string') r.score = Number(r.score); // Infinity/NaN travel as strings
  return r;
}

function serialise(r: QueueResult): string {
  return JSON.stringify(r.error ? { input: r.input, metric: r.metric, error: r.error } : { input: r.input, metric: r.metric, score: Number.isFinite(r.score) ? r.score : String(r.score) });
}

// ---------------------------------------------------------------------------------------------
// submit
// ---------------------------------------------------------------------------------------------

export interface SubmitOptions extends QueueConnectionOptions {
  /** No-reference metric the workers score with (default 'sharpness'). */
  metric?: string;
  /** Passed to the metric on the workers (model/range paths must exist there). */
  metricOptions?: MetricCliOptions;
  /** Paths per addBulk call (default 1000). */
  batchSize?: number;
  /** Tries per job before it fails (default 3); unrecoverable errors fail at the first. */
  attempts?: number;
  /** First retry delay in ms, doubling each retry (default 1000). */
  backoffMs?: number;
  /** Skip paths that already have a result for this metric (default true). */
  skipDone?: boolean;
  /** Called after each batch. */
  onBatch?(progress: { submitted: number; skipped: number }): void;
}

export interface SubmitSummary {
  /** Paths given to BullMQ (a path already queued and not yet finished is not added twice). */
  submitted: number;
  /** Paths skipped because they already had a result. */
  skipped: number;
  /** Every path, made absolute, in input order (submitted and skipped). */
  paths: string[];
}

/** Enqueues file paths (made absolute) as scoring jobs, in batches. */
export async function submitPaths(paths: AsyncIterable<string> | Iterable<string>, o: SubmitOptions = {}): Promise<SubmitSummary> {
  const metric = o.metric ?? 'sharpness';
  nrEntry(undefined, metric);
  const batchSize = o.batchSize ?? 1000;
  const attempts = o.attempts ?? 3;
  const backoffMs = o.backoffMs ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new IqaError('ERR_INPUT', 'batchSize must be a positive integer');
  if (!Number.isInteger(attempts) || attempts <= 0) throw new IqaError('ERR_INPUT', 'attempts must be a positive integer');
  const queue = await openQueue(o);
  const key = resultsKey(queue.name, metric);
  const summary: SubmitSummary = { submitted: 0, skipped: 0, paths: [] };
  try {
    const client = await redisOf(queue);
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const done = o.skipDone === false ? batch.map(() => null) : await client.hmget(key, ...batch);
      const todo = batch.filter((_, i) => done[i] === null);
      summary.skipped += batch.length - todo.length;
      if (todo.length > 0) {
        await queue.addBulk(
          todo.map((path) => ({
            name: metric,
            data: { path, metric, options: o.metricOptions ?? {} } satisfies ScoreJobData,
            opts: { jobId: jobIdFor(metric, path), attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: true, removeOnFail: false },
          })),
        );
      }
      summary.submitted += todo.length;
      batch = [];
      o.onBatch?.({ submitted: summary.submitted, skipped: summary.skipped });
    };
    for await (const p of paths) {
      const abs = resolvePath(p);
      summary.paths.push(abs);
      batch.push(abs);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } finally {
    await queue.close();
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// worker
// ---------------------------------------------------------------------------------------------

export interface WorkerOptions extends QueueConnectionOptions {
  /** Jobs held at once (default 8). */
  concurrency?: number;
  /** Jobs scored in one native batch call (default: concurrency). */
  maxBatch?: number;
  /** Threads one batch call uses (the library's concurrency(); default all cores). */
  threads?: number;
  /** A job's lock; a worker that dies releases its jobs after this (default 30 000 ms). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 30 000 ms). */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker die) before it fails (default 1). */
  maxStalledCount?: number;
  /** Metrics by name (default: the library's registry). */
  metrics?: Record<string, MetricEntry>;
  /** Called for each batch scored, each job that failed and each stalled job this worker recovered. */
  onEvent?(e: WorkerEvent): void;
}

export type WorkerEvent =
  | { type: 'batch'; metric: string; jobs: string[]; ms: number }
  | { type: 'failed'; jobId: string; path: string; error: string; final: boolean }
  /** This worker's stalled-job check found the job's worker gone and put the job back to waiting. */
  | { type: 'stalled'; jobId: string }
  | { type: 'error'; message: string };

export interface ScoreWorker {
  readonly id: string;
  /** Stops taking jobs and waits for the active ones (graceful), then disconnects. */
  close(): Promise<void>;
}

interface Pending {
  job: Job<ScoreJobData>;
  final: boolean;
  resolve(r: QueueResult): void;
}

/**
 * Starts a worker that scores jobs from the queue. Jobs that arrive together (up to maxBatch,
 * within 2 ms) are scored in one native batch call, which spreads them over all cores.
 */
export async function startWorker(o: WorkerOptions = {}): Promise<ScoreWorker> {
  const { Worker, UnrecoverableError } = bullmq();
  const url = o.redis ?? DEFAULT_REDIS_URL;
  const name = queueName(o);
  const registry = o.metrics;
  const concurrency = o.concurrency ?? 8;
  const maxBatch = o.maxBatch ?? concurrency;
  if (o.threads !== undefined) setConcurrency(o.threads);
  const emit = (e: WorkerEvent) => o.onEvent?.(e);

  // Micro-batching: processor calls for the same metric+options share one batchSettled call.
  const groups = new Map<string, { pending: Pending[]; timer?: NodeJS.Timeout }>();
  let client: RedisLike | undefined;

  const flush = async (groupKey: string) => {
    const g = groups.get(groupKey);
    if (!g || g.pending.length === 0) return;
    groups.delete(groupKey);
    clearTimeout(g.timer);
    const items = g.pending;
    const { metric, options } = items[0].job.data;
    const t0 = performance.now();
    try {
      const entry = nrEntry(registry, metric);
      const settled = await entry.fn.batchSettled(
        items.map((p) => p.job.data.path),
        entry.options(options ?? {}),
      );
      const results: QueueResult[] = items.map((p, i) => {
        const e = settled.errors[i];
        return e ? { input: p.job.data.path, metric, error: { code: e.code, message: e.message } } : { input: p.job.data.path, metric, score: settled.scores[i] };
      });
      // One HSET for the batch: scores, and errors that end their job (unrecoverable or last try).
      const fields: string[] = [];
      results.forEach((r, i) => {
        if (!r.error || UNRECOVERABLE_CODES.has(r.error.code) || items[i].final) fields.push(r.input, serialise(r));
      });
      if (fields.length > 0) await client!.hset(resultsKey(name, metric), ...fields);
      emit({ type: 'batch', metric, jobs: items.map((p) => p.job.id as string), ms: performance.now() - t0 });
      items.forEach((p, i) => p.resolve(results[i]));
    } catch (e) {
      // The whole batch failed (unknown metric, Redis down): each job fails (or retries) alone.
      const err = toIqaError(e);
      const rec = (p: Pending): QueueResult => ({ input: p.job.data.path, metric, error: { code: err.code, message: err.message } });
      const finals = items.filter((p) => p.final || UNRECOVERABLE_CODES.has(err.code));
      if (finals.length > 0) await client?.hset(resultsKey(name, metric), ...finals.flatMap((p) => [p.job.data.path, serialise(rec(p))])).catch(() => undefined);
      items.forEach((p) => p.resolve(rec(p)));
    }
  };

  const enqueue = (job: Job<ScoreJobData>): Promise<QueueResult> =>
    new Promise((resolve) => {
      const { metric, options } = job.data;
      const groupKey = `${metric}\0${JSON.stringify(options ?? {})}`;
      let g = groups.get(groupKey);
      if (!g) {
        g = { pending: [] };
        groups.set(groupKey, g);
        g.timer = setTimeout(() => void flush(groupKey), 2);
      }
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      g.pending.push({ job, final, resolve });
      if (g.pending.length >= maxBatch) void flush(groupKey);
    });

  const processor = async (job: Job<ScoreJobData>) => {
    const data = job.data;
    if (!data || typeof data.path !== 'string' || typeof data.metric !== 'string') throw new UnrecoverableError('ERR_INPUT: job data must be {path, metric}');
    const r = await enqueue(job);
    if (r.error) {
      const final = UNRECOVERABLE_CODES.has(r.error.code) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      emit({ type: 'failed', jobId: job.id as string, path: data.path, error: `${r.error.code}: ${r.error.message}`, final });
      const message = `${r.error.code}: ${r.error.message}`;
      throw UNRECOVERABLE_CODES.has(r.error.code) ? new UnrecoverableError(message) : new Error(message);
    }
    return { score: Number.isFinite(r.score) ? r.score : String(r.score) };
  };

  const worker = new Worker<ScoreJobData>(name, processor, {
    connection: redisOptions(url) as BullQueueOptions['connection'],
    prefix: PREFIX,
    concurrency,
    autorun: false,
    ...(o.lockDurationMs !== undefined ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs !== undefined ? { stalledInterval: o.stalledIntervalMs } : {}),
    ...(o.maxStalledCount !== undefined ? { maxStalledCount: o.maxStalledCount } : {}),
  });
  worker.on('error', (e) => emit({ type: 'error', message: e.message }));
  worker.on('stalled', (jobId) => emit({ type: 'stalled', jobId }));
  await ready(worker, url, o.connectTimeoutMs ?? 10_000);
  client = await redisOf(worker);
  void worker.run().catch((e: unknown) => emit({ type: 'error', message: (e as Error).message }));
  return {
    id: worker.id,
    close: async () => {
      await worker.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// results
// ---------------------------------------------------------------------------------------------

export interface ResultsOptions extends QueueConnectionOptions {
  metric?: string;
}

function codeOf(reason: string | undefined): { code: ErrorCode; message: string } {
  const m = /^(ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (m && isErrorCode(m[1])) return { code: m[1], message: m[2] };
  // A job failed outside our processor (BullMQ: stalled more than maxStalledCount, lock lost).
  return { code: 'ERR_INTERNAL', message: reason || 'job failed without a reason' };
}

/**
 * Writes a result for failed jobs that have none: a job that stalled more than maxStalledCount
 * times (its workers kept dying) is failed by BullMQ without our processor seeing it.
 */
async function settleFailed(queue: BullQueue, metric: string): Promise<number> {
  const client = await redisOf(queue);
  const key = resultsKey(queue.name, metric);
  let settled = 0;
  const page = 500;
  for (let start = 0; ; start += page) {
    const jobs = (await queue.getFailed(start, start + page - 1)) as Job<ScoreJobData>[];
    if (jobs.length === 0) break;
    for (const j of jobs) {
      if (!j?.data || j.data.metric !== metric) continue;
      const rec: QueueResult = { input: j.data.path, metric, error: codeOf(j.failedReason) };
      settled += await client.hsetnx(key, j.data.path, serialise(rec));
    }
    if (jobs.length < page) break;
  }
  return settled;
}

/** Every result stored for `metric` (HSCAN order), after settling failed jobs that lack one. */
export async function* readResults(o: ResultsOptions = {}): AsyncGenerator<QueueResult> {
  const metric = o.metric ?? 'sharpness';
  const queue = await openQueue(o);
  try {
    await settleFailed(queue, metric);
    const client = await redisOf(queue);
    let cursor = '0';
    do {
      const [next, flat] = await client.hscan(resultsKey(queue.name, metric), cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) yield parseResult(flat[i]) as QueueResult;
    } while (cursor !== '0');
  } finally {
    await queue.close();
  }
}

export interface WaitOptions extends ResultsOptions {
  /** Poll interval (default 500 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Yields the result of each path as it appears (completion order), until every path has one.
 * When the queue has nothing left waiting, delayed or active, failed jobs without a result are
 * settled; a path whose job vanished (removed by hand) ends with ERR_INTERNAL.
 */
export async function* waitForResults(paths: readonly string[], o: WaitOptions = {}): AsyncGenerator<QueueResult> {
  const metric = o.metric ?? 'sharpness';
  const pollMs = o.pollMs ?? 500;
  const queue = await openQueue(o);
  const key = resultsKey(queue.name, metric);
  let remaining = [...new Set(paths.map((p) => resolvePath(p)))];
  try {
    const client = await redisOf(queue);
    let idlePolls = 0;
    while (remaining.length > 0) {
      if (o.signal?.aborted) throw new IqaError('ERR_ABORTED', 'waiting for results was aborted');
      const still: string[] = [];
      for (let i = 0; i < remaining.length; i += 1000) {
        const chunk = remaining.slice(i, i + 1000);
        const got = await client.hmget(key, ...chunk);
        for (let k = 0; k < chunk.length; k++) {
          const r = parseResult(got[k]);
          if (r) yield r;
          else still.push(chunk[k]);
        }
      }
      remaining = still;
      if (remaining.length === 0) break;
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
      const busy = Object.values(c).reduce((a, b) => a + b, 0);
      if (busy === 0) {
        await settleFailed(queue, metric);
        // Three idle polls with nothing settled: whatever is left has no job any more.
        if (++idlePolls >= 3) {
          const got = await client.hmget(key, ...remaining);
          for (let k = 0; k < remaining.length; k++) {
            const r = parseResult(got[k]) ?? { input: remaining[k], metric, error: { code: 'ERR_INTERNAL' as const, message: 'no job and no result for this path (was the job removed?)' } };
            yield r;
          }
          remaining = [];
          break;
        }
      } else idlePolls = 0;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await queue.close();
  }
}

/** Job counts of the queue (waiting, active, delayed, completed, failed, ...). */
export async function queueCounts(o: QueueConnectionOptions = {}): Promise<Record<string, number>> {
  const queue = await openQueue(o);
  try {
    return await queue.getJobCounts();
  } finally {
    await queue.close();
  }
}
