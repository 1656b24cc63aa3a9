// Streams and iterators over any scorer: an object-mode Duplex (inputs in, results out, with
// backpressure) and an async iterator over files and folders. Both batch inputs into native
// calls (maxBatch per call, `concurrency` calls in flight) and record per-item errors.
import { Duplex } from 'node:stream';
import { expandPaths } from './files';
import { abortedError, IqaError, toIqaError, type ErrorCode } from '../core/errors';
import type { ImageInput } from '../core/input';
import { resolveMetric } from '../registry';
import { limiterFrom, type AdmissionOptions } from '../core/admission';
import { splitCallOptions, type CallOptions, type SettledBatch } from '../core/run';

export interface ScoreResult<I = ImageInput> {
  input: I;
  score?: number;
  error?: IqaError;
}

/** Anything that scores a batch with per-item errors: a metric function, or a loaded model. */
export interface BatchScorer {
  batchSettled(inputs: readonly ImageInput[], opts?: CallOptions & object): Promise<SettledBatch>;
}

/**
 * Admission for a stream's or iterator's native calls: `limiter` (CallOptions) shares a budget
 * with other scorers, maxInFlight/maxQueued make the stream its own. A batch refused with ERR_BUSY
 * does not end the stream: each of its inputs comes out with that error (shed, not failed).
 */
export type PipelineAdmission = AdmissionOptions;

export interface ScoreStreamOptions extends CallOptions, PipelineAdmission {
  /** Images per native call (default 16). */
  maxBatch?: number;
  /** Native calls in flight (default 2). */
  concurrency?: number;
  /** Emit results in input order (default true); false emits each as soon as it is ready. */
  ordered?: boolean;
  /** A partial batch waits at most this long for more inputs (default 5 ms). */
  maxDelayMs?: number;
  /** Options passed to the metric (variant, model, ...). */
  metricOptions?: object;
}

export function resolveScorer(metricOrScorer: string | BatchScorer): BatchScorer {
  if (typeof metricOrScorer !== 'string') {
    if (!metricOrScorer || typeof metricOrScorer.batchSettled !== 'function') throw new IqaError('ERR_INPUT', 'expected a metric name or an object with batchSettled()');
    return metricOrScorer;
  }
  const entry = resolveMetric(metricOrScorer);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${metricOrScorer}' is a full-reference metric; stream [ref, dist] pairs through its batchSettled instead`);
  return entry.fn;
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new IqaError('ERR_INPUT', `${name} must be a positive integer`);
  return v;
}

function pipelineCallOptions(opts: ScoreStreamOptions | ScoreFilesOptions): CallOptions & object {
  const limiter = limiterFrom({ limiter: opts.limiter, maxInFlight: opts.maxInFlight, maxQueued: opts.maxQueued });
  return { ...(opts.metricOptions ?? {}), ...splitCallOptions(opts).call, limiter };
}

/** Per-item results of a batch: its settled scores, or every input shed when admission refused it. */
function batchResults<I extends ImageInput>(scorer: BatchScorer, batch: readonly I[], callOpts: CallOptions & object): Promise<ScoreResult<I>[]> {
  return scorer.batchSettled(batch, callOpts).then(
    ({ scores, errors }) => batch.map((input, i) => (errors[i] ? { input, error: errors[i] as IqaError } : { input, score: scores[i] })),
    (e: unknown) => {
      const err = toIqaError(e);
      if (err.code === 'ERR_BUSY') return batch.map((input) => ({ input, error: err }));
      // Per-image failures arrive in `errors`; any other rejected call means the scorer cannot
      // run at all (a missing model, bad options, abort): that ends the stream or iteration.
      throw err;
    },
  );
}

interface Pending {
  seq: number;
  input: ImageInput;
}

/**
 * An object-mode Duplex: write ImageInputs, read `{input, score}` or `{input, error}`.
 * Backpressure both ways: writes are held while `concurrency * maxBatch` images are in flight
 * or unread results pile up past the readable high-water mark.
 */
export function scoreStream(metricOrScorer: string | BatchScorer, opts: ScoreStreamOptions = {}): Duplex {
  const scorer = resolveScorer(metricOrScorer);
  const maxBatch = positiveInt(opts.maxBatch, 16, 'maxBatch');
  const concurrency = positiveInt(opts.concurrency, 2, 'concurrency');
  const ordered = opts.ordered ?? true;
  const maxDelayMs = opts.maxDelayMs ?? 5;
  const callOpts = pipelineCallOptions(opts);

  let nextSeq = 0;
  let nextOut = 0;
  let inFlight = 0; // images dispatched and not yet pushed
  let batchesInFlight = 0;
  let pending: Pending[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  const done = new Map<number, ScoreResult>(); // ordered mode: finished, waiting for their turn
  const heldWrites: (() => void)[] = [];
  let finalCallback: ((err?: Error | null) => void) | undefined;
  let wantsData = true;

  const capacity = () => concurrency * maxBatch;
  const canAccept = () => inFlight + pending.length < capacity() && (wantsData || stream.readableLength < stream.readableHighWaterMark);

  const releaseWrites = () => {
    while (heldWrites.length > 0 && canAccept()) (heldWrites.shift() as () => void)();
  };

  const maybeFinish = () => {
    if (finalCallback && pending.length === 0 && batchesInFlight === 0 && done.size === 0) {
      const cb = finalCallback;
      finalCallback = undefined;
      stream.push(null);
      cb();
    }
  };

  const emit = (seq: number, r: ScoreResult) => {
    if (!ordered) {
      wantsData = stream.push(r);
      return;
    }
    done.set(seq, r);
    while (done.has(nextOut)) {
      wantsData = stream.push(done.get(nextOut));
      done.delete(nextOut);
      nextOut++;
    }
  };

  const dispatch = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    while (pending.length > 0 && batchesInFlight < concurrency) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      batchesInFlight++;
      inFlight += batch.length;
      batchResults(
        scorer,
        batch.map((p) => p.input),
        callOpts,
      )
        .then(
          (results) => results.forEach((r, i) => emit(batch[i].seq, r)),
          (e: IqaError) => stream.destroy(e),
        )
        .finally(() => {
          batchesInFlight--;
          inFlight -= batch.length;
          if (pending.length >= maxBatch || (finalCallback && pending.length > 0)) dispatch();
          else schedule();
          releaseWrites();
          maybeFinish();
        });
    }
  };

  const schedule = () => {
    if (pending.length === 0 || flushTimer) return;
    if (pending.length >= maxBatch) return dispatch();
    flushTimer = setTimeout(dispatch, maxDelayMs);
  };

  const stream = new Duplex({
    objectMode: true,
    highWaterMark: maxBatch * 2,
    write(input: ImageInput, _enc, cb) {
      pending.push({ seq: nextSeq++, input });
      schedule();
      if (canAccept()) cb();
      else heldWrites.push(() => cb());
    },
    final(cb) {
      finalCallback = cb;
      dispatch();
      maybeFinish();
    },
    read() {
      wantsData = true;
      releaseWrites();
    },
    destroy(err, cb) {
      if (flushTimer) clearTimeout(flushTimer);
      pending = [];
      cb(err);
    },
  });
  opts.signal?.addEventListener('abort', () => stream.destroy(abortedError()), { once: true });
  return stream;
}

export interface ScoreFilesOptions extends CallOptions, PipelineAdmission {
  maxBatch?: number;
  concurrency?: number;
  metricOptions?: object;
  /** Skip these paths (e.g. already scored: `iqa score --resume`). */
  skip?: ReadonlySet<string>;
}

/** Scores files and folders (recursive, image extensions), yielding results in order. */
export async function* scoreFiles(
  pathsOrDirs: string | readonly string[],
  metricOrScorer: string | BatchScorer = 'sharpness',
  opts: ScoreFilesOptions = {},
): AsyncGenerator<ScoreResult<string>> {
  const scorer = resolveScorer(metricOrScorer);
  const maxBatch = positiveInt(opts.maxBatch, 16, 'maxBatch');
  const concurrency = positiveInt(opts.concurrency, 2, 'concurrency');
  const callOpts = pipelineCallOptions(opts);
  const paths = typeof pathsOrDirs === 'string' ? [pathsOrDirs] : pathsOrDirs;
  const queue: Promise<ScoreResult<string>[]>[] = [];
  const run = (batch: string[]) => {
    const p = batchResults(scorer, batch, callOpts);
    // Queued calls are awaited in order; mark each handled now so that one failing while an
    // earlier one is awaited is not an unhandled rejection (the await below still throws it).
    p.catch(() => undefined);
    return p;
  };
  let batch: string[] = [];
  for await (const p of expandPaths(paths)) {
    if (opts.signal?.aborted) throw abortedError();
    if (opts.skip?.has(p)) continue;
    batch.push(p);
    if (batch.length < maxBatch) continue;
    queue.push(run(batch));
    batch = [];
    if (queue.length >= concurrency) yield* (await queue.shift()) as ScoreResult<string>[];
  }
  if (batch.length > 0) queue.push(run(batch));
  while (queue.length > 0) yield* (await queue.shift()) as ScoreResult<string>[];
}

export type { ErrorCode };
