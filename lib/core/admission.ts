// Admission control: one Limiter bounds how many calls run at once (maxInFlight) and how many
// wait for a slot (maxQueued); a call beyond both is rejected at once with ERR_BUSY, before its
// input is touched. Every native entry point (run.ts's runNr/runFr, Model) admits through
// admit() below, so metric functions, models and streams share one mechanism.
//
// Semantics: a Limiter is a budget. A scorer built with limits (metric.limited(), Model.load's
// maxInFlight/maxQueued, scoreStream's) owns one; passing the same Limiter (`limiter` call option,
// or `{ limiter }` at construction) to several scorers makes them share it, which is what a
// server wants: every metric runs on the same native threads, so one budget matches one machine.
// A call is one admission whatever it carries (a batch of 16 images is one call).
import { availableParallelism } from 'node:os';
import { abortedError, IqaError } from './errors';

export interface AdmissionOptions {
  /** Calls running at once (default: the machine's cores). */
  maxInFlight?: number;
  /** Calls waiting for a running slot; beyond it a call is rejected with ERR_BUSY (default: unbounded). */
  maxQueued?: number;
}

export interface LimiterStats {
  maxInFlight: number;
  maxQueued: number;
  inFlight: number;
  queued: number;
  /** Calls started since creation (at once or after waiting). */
  admitted: number;
  /** Calls rejected with ERR_BUSY. */
  rejected: number;
  /** Calls whose signal fired while they waited: they left the queue without running. */
  abortedWhileQueued: number;
  /** Places held by reserve() for calls yet to come. */
  reserved: number;
}

interface Waiter {
  start(): void;
}

/**
 * A place held in a Limiter for a call that is yet to come (a server reading a request's body):
 * from reserve() on it counts against the limits like a waiting call, and the call given it in
 * run() is admitted (it runs or waits) instead of being rejected. release() gives an unused place
 * back (the request failed or went away first); it is a no-op once the place is used or released.
 */
export class Reservation {
  private held = true;
  /** @internal */
  constructor(readonly limiter: Limiter, private readonly onRelease: () => void) {}

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.onRelease();
  }

  /** @internal Consumes the place for a call; false when it was already used or released. */
  take(): boolean {
    if (!this.held) return false;
    this.held = false;
    return true;
  }
}

function limit(v: number | undefined, fallback: number, name: string, min: number): number {
  if (v === undefined) return fallback;
  if (v !== Infinity && (!Number.isInteger(v) || v < min)) throw new IqaError('ERR_INPUT', `${name} must be an integer >= ${min} or Infinity`);
  return v;
}

export class Limiter {
  readonly maxInFlight: number;
  readonly maxQueued: number;
  private running = 0;
  private reservedPlaces = 0;
  // A Set iterates in insertion order (FIFO) and deletes an aborted waiter in O(1).
  private readonly waiting = new Set<Waiter>();
  private counts = { admitted: 0, rejected: 0, abortedWhileQueued: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(opts: AdmissionOptions = {}) {
    this.maxInFlight = limit(opts.maxInFlight, availableParallelism(), 'maxInFlight', 1);
    this.maxQueued = limit(opts.maxQueued, Infinity, 'maxQueued', 0);
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** Places held by reserve() and not yet used or released. */
  get reserved(): number {
    return this.reservedPlaces;
  }

  /** True when the next call (or reserve()) would be rejected with ERR_BUSY. Running, waiting and
   *  reserved calls together fill maxInFlight + maxQueued (a call waits only when every slot runs). */
  get saturated(): boolean {
    return this.running + this.waiting.size + this.reservedPlaces >= this.maxInFlight + this.maxQueued;
  }

  stats(): LimiterStats {
    return { maxInFlight: this.maxInFlight, maxQueued: this.maxQueued, inFlight: this.running, queued: this.waiting.size, ...this.counts, reserved: this.reservedPlaces };
  }

  /**
   * Holds a place for a call to come, or returns undefined (counted as rejected) when the Limiter is
   * saturated. A server reserves when a request's headers arrive and gives the reservation to run()
   * once the body is in: the decision made before the body is read then holds, and no request is
   * shed after its upload.
   */
  reserve(): Reservation | undefined {
    if (this.saturated) {
      this.counts.rejected++;
      return undefined;
    }
    this.reservedPlaces++;
    return new Reservation(this, () => {
      this.reservedPlaces--;
      this.notifyIdle();
    });
  }

  /** Resolves once nothing runs, waits or is reserved (a server's drain waits on this). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.size === 0 && this.reservedPlaces === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs `start` when a slot is free: now, after waiting in the queue, or never (ERR_BUSY at once
   * when the queue is full; ERR_ABORTED when `signal` fires first, the call leaving the queue).
   * The decision for a call is made synchronously, so calls made in one tick are admitted in order.
   * With a `reservation` of this Limiter the call is never rejected for lack of room: it uses the
   * place reserve() held (ERR_ABORTED when that place was already released).
   */
  run<T>(signal: AbortSignal | undefined, start: () => Promise<T>, reservation?: Reservation): Promise<T> {
    if (reservation !== undefined) {
      if (!(reservation instanceof Reservation) || reservation.limiter !== this) return Promise.reject(new IqaError('ERR_INPUT', "reservation must come from this Limiter's reserve()"));
      if (!reservation.take()) return Promise.reject(abortedError('the reservation was released before its call'));
      this.reservedPlaces--;
    }
    if (signal?.aborted) {
      this.notifyIdle();
      return Promise.reject(abortedError());
    }
    // A reserved call's place is already counted; any other needs room left.
    const room = reservation !== undefined || !this.saturated;
    if (this.running < this.maxInFlight && room) return this.launch(start);
    if (!room) {
      this.counts.rejected++;
      return Promise.reject(
        new IqaError('ERR_BUSY', `busy: ${this.running} calls running and ${this.waiting.size} waiting (maxInFlight ${this.maxInFlight}, maxQueued ${this.maxQueued})`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!this.waiting.delete(waiter)) return;
        this.counts.abortedWhileQueued++;
        this.notifyIdle();
        reject(abortedError());
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.launch(start).then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
    });
  }

  private launch<T>(start: () => Promise<T>): Promise<T> {
    this.running++;
    this.counts.admitted++;
    let work: Promise<T>;
    try {
      work = start();
    } catch (e) {
      work = Promise.reject(e);
    }
    return work.finally(() => this.release());
  }

  private release(): void {
    this.running--;
    const next = this.waiting.values().next();
    if (!next.done) {
      this.waiting.delete(next.value);
      next.value.start();
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.running !== 0 || this.waiting.size !== 0 || this.reservedPlaces !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

const notALimiter = () => new IqaError('ERR_INPUT', 'limiter must be a Limiter (new Limiter({ maxInFlight, maxQueued }))');

/** A Limiter given, or one made from limits; undefined when neither is set (no admission control). */
export function limiterFrom(opts: AdmissionOptions & { limiter?: Limiter }): Limiter | undefined {
  if (opts.limiter !== undefined) {
    if (!(opts.limiter instanceof Limiter)) throw notALimiter();
    if (opts.maxInFlight !== undefined || opts.maxQueued !== undefined) throw new IqaError('ERR_INPUT', 'give either limiter or maxInFlight/maxQueued, not both');
    return opts.limiter;
  }
  if (opts.maxInFlight === undefined && opts.maxQueued === undefined) return undefined;
  return new Limiter(opts);
}

/** Runs `start` through `limiter` when there is one (the single admission point of every scorer). */
export function admit<T>(limiter: Limiter | undefined, signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  if (limiter === undefined) return start();
  if (!(limiter instanceof Limiter)) return Promise.reject(notALimiter());
  return limiter.run(signal, start);
}
