// Admission control (lib/core/admission.ts): bounded in-flight and queued calls, ERR_BUSY at once
// without touching the input, abort and deadline while queued, for metric functions, Model and
// streams. A spy on the addon's scoring entry points counts the calls that reached native code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encode, Limiter, Model, scoreStream, sharpness, ssim, type ScoreResult } from '../lib';
import { native } from '../lib/core/native';
import { rejection, ROOT, syntheticRgb } from './helpers';

const png = readFileSync(join(ROOT, 'test/fixtures/images/rgb8.png'));
const garbage = Buffer.from('not an image: decoding this would be ERR_DECODE');
const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');

/** Holds one of the limiter's running slots until release() (a call that takes as long as we say). */
function holdSlot(limiter: Limiter): { release(): void; done: Promise<unknown> } {
  let release!: () => void;
  const done = limiter.run(undefined, () => new Promise<void>((r) => (release = r)));
  return { release: () => release(), done };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

afterEach(() => vi.restoreAllMocks());

describe('Limiter', () => {
  it('rejects a call beyond maxInFlight + maxQueued at once with ERR_BUSY, without decoding it', async () => {
    const scoreNr = vi.spyOn(native(), 'scoreNr');
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 1 });
    const first = sharpness(png, { limiter });
    const second = sharpness(png, { limiter });
    let firstSettled = false;
    first.finally(() => (firstSettled = true)).catch(() => undefined);
    // Garbage bytes: had this call been decoded it would fail ERR_DECODE, not ERR_BUSY.
    const busy = await rejection(sharpness(garbage, { limiter }));
    expect(busy.code).toBe('ERR_BUSY');
    expect(busy.message).toMatch(/maxInFlight 1, maxQueued 1/);
    expect(firstSettled).toBe(false); // answered before the running call finished
    expect(limiter.stats()).toMatchObject({ inFlight: 1, queued: 1, rejected: 1 });
    expect(limiter.saturated).toBe(true);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(await sharpness(png));
    expect(b).toBe(a);
    // The two admitted calls (and the reference call above) reached native code; the shed one did not.
    expect(scoreNr).toHaveBeenCalledTimes(3);
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0, admitted: 2, rejected: 1 });
  });

  it('a queued call runs once a slot frees, in arrival order', async () => {
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 4 });
    const slot = holdSlot(limiter);
    const order: number[] = [];
    const calls = [1, 2, 3].map((i) => sharpness(png, { limiter }).then(() => order.push(i)));
    await nextTurn();
    expect(limiter.queued).toBe(3);
    slot.release();
    await Promise.all(calls);
    expect(order).toEqual([1, 2, 3]);
  });

  it('an aborted queued call leaves the queue without running', async () => {
    const scoreNr = vi.spyOn(native(), 'scoreNr');
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 2 });
    const slot = holdSlot(limiter);
    const ac = new AbortController();
    const queued = sharpness(png, { limiter, signal: ac.signal });
    await nextTurn();
    expect(limiter.queued).toBe(1);
    ac.abort();
    expect((await rejection(queued)).code).toBe('ERR_ABORTED');
    expect(limiter.queued).toBe(0);
    slot.release();
    await slot.done;
    await nextTurn();
    expect(scoreNr).not.toHaveBeenCalled();
    expect(limiter.stats()).toMatchObject({ abortedWhileQueued: 1, admitted: 1, inFlight: 0 });
    // An already aborted signal is refused before queueing.
    expect((await rejection(sharpness(png, { limiter, signal: ac.signal }))).code).toBe('ERR_ABORTED');
  });

  it('a deadline (AbortSignal.timeout) counts the time spent queued', async () => {
    const scoreNr = vi.spyOn(native(), 'scoreNr');
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 1 });
    const slot = holdSlot(limiter);
    const t0 = performance.now();
    const err = await rejection(sharpness(png, { limiter, signal: AbortSignal.timeout(30) }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(limiter.queued).toBe(0);
    slot.release();
    await slot.done;
    expect(scoreNr).not.toHaveBeenCalled();
  });

  it('idle() resolves once nothing runs or waits', async () => {
    const limiter = new Limiter({ maxInFlight: 1 });
    const slot = holdSlot(limiter);
    const queued = sharpness(png, { limiter });
    let idle = false;
    const waiting = limiter.idle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false);
    slot.release();
    await queued;
    await waiting;
    expect(idle).toBe(true);
  });

  it('reserve(): a held place counts against the limits, and the call given it runs or waits instead of being rejected', async () => {
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 1 });
    const a = limiter.reserve()!, b = limiter.reserve()!;
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0, reserved: 2 });
    expect(limiter.saturated).toBe(true);
    expect(limiter.reserve()).toBeUndefined(); // full: counted as rejected
    expect((await rejection(sharpness(png, { limiter }))).code).toBe('ERR_BUSY'); // no room for a call without a place
    expect(limiter.stats().rejected).toBe(2);
    // Both reserved calls are admitted although running + queued would refuse a third: one runs, one waits.
    let release!: () => void;
    const first = limiter.run(undefined, () => new Promise<number>((r) => (release = () => r(1))), a);
    const second = limiter.run(undefined, async () => 2, b);
    expect(limiter.stats()).toMatchObject({ inFlight: 1, queued: 1, reserved: 0 });
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0, reserved: 0, admitted: 2 });
  });

  it('a reservation released unused frees its place and counts for idle(); a used, released or foreign one is refused', async () => {
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 0 });
    const r = limiter.reserve()!;
    expect(limiter.saturated).toBe(true);
    let idle = false;
    const waiting = limiter.idle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false); // a reserved place is work to come
    r.release();
    r.release(); // a no-op the second time
    await waiting;
    expect(limiter.stats()).toMatchObject({ reserved: 0 });
    expect(await rejection(limiter.run(undefined, async () => 1, r))).toMatchObject({ code: 'ERR_ABORTED', message: 'the reservation was released before its call' });
    const used = limiter.reserve()!;
    expect(await limiter.run(undefined, async () => 3, used)).toBe(3);
    expect((await rejection(limiter.run(undefined, async () => 4, used))).code).toBe('ERR_ABORTED');
    const foreign = new Limiter().reserve()!;
    expect((await rejection(limiter.run(undefined, async () => 5, foreign))).code).toBe('ERR_INPUT');
    // An aborted signal with a reservation: the place is freed, nothing runs.
    const c = limiter.reserve()!;
    const ctl = new AbortController();
    ctl.abort();
    expect((await rejection(limiter.run(ctl.signal, async () => 6, c))).code).toBe('ERR_ABORTED');
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0, reserved: 0 });
  });

  it('bad limits are ERR_INPUT', async () => {
    for (const o of [{ maxInFlight: 0 }, { maxInFlight: 1.5 }, { maxQueued: -1 }, { maxQueued: NaN }]) expect(() => new Limiter(o)).toThrow(expect.objectContaining({ code: 'ERR_INPUT' }));
    const notALimiter = { run: () => Promise.resolve(1) } as unknown as Limiter;
    expect((await rejection(sharpness(png, { limiter: notALimiter }))).code).toBe('ERR_INPUT');
    expect(() => scoreStream('sharpness', { limiter: new Limiter(), maxQueued: 1 })).toThrow(/either limiter or maxInFlight/);
  });
});

describe('scorers under limits', () => {
  it('metric.limited(): one budget for fn, batch and batchSettled; a full-reference metric too', async () => {
    const scoreFr = vi.spyOn(native(), 'scoreFr');
    const limited = ssim.limited({ maxInFlight: 1, maxQueued: 0 });
    expect(limited.limiter?.maxInFlight).toBe(1);
    const png2 = await encode(syntheticRgb(24, 16, 9), { format: 'png' });
    const running = limited(png, png);
    expect((await rejection(limited(garbage, garbage))).code).toBe('ERR_BUSY');
    expect((await rejection(limited.batch([[png, png2]]))).code).toBe('ERR_BUSY');
    expect(await running).toBe(await ssim(png, png));
    expect(scoreFr).toHaveBeenCalledTimes(2); // the limited call and the reference call
    // A shared Limiter: two metrics, one budget.
    const shared = new Limiter({ maxInFlight: 1, maxQueued: 0 });
    const a = sharpness.limited(shared);
    const b = ssim.limited(shared);
    const held = a(png);
    expect((await rejection(b(png, png))).code).toBe('ERR_BUSY');
    await held;
  });

  it('Model: maxInFlight/maxQueued at load; ERR_BUSY without decoding; abort while queued', async () => {
    const model = await Model.load(join(FIX, 'model.json'), { maxInFlight: 1, maxQueued: 1 });
    try {
      const modelScore = vi.spyOn(native() as unknown as { modelScore: () => unknown }, 'modelScore');
      const img = readFileSync(join(FIX, 'img0.png'));
      const first = model.score(img);
      const ac = new AbortController();
      const queued = model.score(img, { signal: ac.signal });
      expect((await rejection(model.score(garbage))).code).toBe('ERR_BUSY');
      ac.abort();
      expect((await rejection(queued)).code).toBe('ERR_ABORTED');
      const golden = JSON.parse(readFileSync(join(FIX, 'golden.json'), 'utf8'));
      expect(Math.abs((await first) - golden.images[0].score)).toBeLessThan(1e-4);
      expect(modelScore).toHaveBeenCalledTimes(1);
      expect(model.info().admission).toMatchObject({ maxInFlight: 1, maxQueued: 1, admitted: 1, rejected: 1, abortedWhileQueued: 1 });
      // scoreMany: its chunks are calls; a shed chunk rejects the whole call, nothing left dangling.
      const many = model.scoreMany([img, img, img], { chunkSize: 1, concurrency: 3 });
      expect((await rejection(many)).code).toBe('ERR_BUSY');
    } finally {
      await model.close();
    }
  });

  it('streams: a batch refused by a shared, saturated Limiter comes out as ERR_BUSY per input', async () => {
    const scoreNr = vi.spyOn(native(), 'scoreNr');
    const limiter = new Limiter({ maxInFlight: 1, maxQueued: 0 });
    const slot = holdSlot(limiter);
    const out: ScoreResult[] = [];
    for await (const r of Readable.from([png, garbage, png]).pipe(scoreStream('sharpness', { limiter, maxBatch: 2 }))) out.push(r as ScoreResult);
    slot.release();
    expect(out.map((r) => r.error?.code)).toEqual(['ERR_BUSY', 'ERR_BUSY', 'ERR_BUSY']);
    expect(scoreNr).not.toHaveBeenCalled();
    // Its own limits: nothing is shed while the stream's concurrency fits in them.
    const own: ScoreResult[] = [];
    for await (const r of Readable.from([png, png, png]).pipe(scoreStream('sharpness', { maxInFlight: 2, maxQueued: 0, maxBatch: 1, concurrency: 2 }))) own.push(r as ScoreResult);
    expect(own.every((r) => typeof r.score === 'number')).toBe(true);
  });
});
