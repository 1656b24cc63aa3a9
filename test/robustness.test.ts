// Never crash, never leak, never block: a fuzz loop, an RSS check over 20,000 calls, the
// event loop under 4 long jobs, and aborts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { IqaError, sharpness, psnr } from '../lib';
import { ROOT, rng } from './helpers';

const seeds = ['rgb8.png', 'rgb8.jpg'].map((n) => readFileSync(join(ROOT, 'test/fixtures/images', n)));

describe('fuzz', () => {
  it('10,000 mutated image buffers: every result is a score or a typed IqaError, the process lives', () => {
    // In a child process: a crash is a non-zero exit, and whatever a codec prints is captured.
    const r = spawnSync(process.execPath, [join(ROOT, 'test/fuzz-child.cjs'), '10000'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    const stderrLines = r.stderr.split('\n').filter((l) => l.length > 0);
    console.log(`fuzz: ${s.scored} scored, ${s.failed} rejected ${JSON.stringify(s.codes)}; ${stderrLines.length} lines of codec output on stderr`);
    // libpng/libjpeg/libtiff/libwebp/giflib/OpenCV messages belong in the IqaError, never on stderr.
    expect(stderrLines.slice(0, 5)).toEqual([]);
    expect(s.bad).toEqual([]);
    expect(s.total).toBe(10_000);
    expect(s.scored + s.failed).toBe(10_000);
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(s.scored).toBeGreaterThan(100);
    expect(s.failed).toBeGreaterThan(100);
  }, 300_000);

  it('2,000 mutated HEIC/AVIF buffers: typed errors, the process lives, libde265/dav1d print nothing', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'test/fuzz-child.cjs'), '2000', 'heif'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    const stderrLines = r.stderr.split('\n').filter((l) => l.length > 0);
    console.log(`fuzz HEIC/AVIF: ${s.scored} scored, ${s.failed} rejected ${JSON.stringify(s.codes)}; ${stderrLines.length} lines of codec output on stderr`);
    // dav1d's logger is ours (native/core/image/heif_av1_decoder.cpp): its messages go into the error.
    expect(stderrLines.slice(0, 5)).toEqual([]);
    expect(s.bad).toEqual([]);
    expect(s.scored + s.failed).toBe(2000);
    expect(s.scored).toBeGreaterThan(50);
    expect(s.failed).toBeGreaterThan(50);
  }, 120_000);
});

describe('memory', () => {
  it('RSS after 20,000 calls stays within 50 MB of its value after the first 1,000', async () => {
    const inputs = [seeds[0], seeds[1], Buffer.from('not an image'), { data: new Uint8Array(64 * 48 * 3).fill(7), width: 64, height: 48 }];
    let rssAfter1000 = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = inputs[i % inputs.length];
      await sharpness(input).catch((e: unknown) => {
        if (!(e instanceof IqaError)) throw e;
      });
      if (i === 999) rssAfter1000 = process.memoryUsage().rss;
    }
    const grown = (process.memoryUsage().rss - rssAfter1000) / 1e6;
    console.log(`RSS growth from call 1,000 to 20,000: ${grown.toFixed(1)} MB`);
    expect(grown).toBeLessThan(50);
  }, 300_000);
});

describe('async', () => {
  const big = (seed: number) => {
    const r = rng(seed);
    const data = new Uint8Array(3000 * 2000);
    for (let i = 0; i < data.length; i++) data[i] = (r() * 256) | 0;
    return { data, width: 3000, height: 2000, channels: 1 as const };
  };

  it('the event loop stays responsive (timer lag p99 < 20 ms) while 4 long jobs run', async () => {
    const img = big(1);
    const jobs = Array.from({ length: 4 }, () => Array.from({ length: 12 }, () => img));
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const lags: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lags.push(now - last - 5);
      last = now;
    }, 5);
    const t0 = performance.now();
    const results = await Promise.all(jobs.map((j) => sharpness.batch(j)));
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    h.disable();
    lags.sort((a, b) => a - b);
    const p99 = lags[Math.floor(lags.length * 0.99)];
    console.log(`4 jobs took ${elapsed.toFixed(0)} ms; timer lag p99 ${p99.toFixed(2)} ms; monitorEventLoopDelay p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms`);
    expect(results.every((s) => s.every(Number.isFinite))).toBe(true);
    expect(elapsed).toBeGreaterThan(200); // the jobs really are long
    expect(lags.length).toBeGreaterThan(20);
    expect(p99).toBeLessThan(20);
    expect(h.percentile(99) / 1e6).toBeLessThan(20);
  }, 120_000);

  it('an AbortSignal rejects at once with ERR_ABORTED and stops the native batch', async () => {
    const img = big(2);
    const ac = new AbortController();
    const t0 = performance.now();
    const p = sharpness.batch(Array.from({ length: 200 }, () => img), { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(performance.now() - t0).toBeLessThan(1000);
    // The addon is still usable (and the aborted batch winds down).
    await expect(sharpness(join(ROOT, 'test/fixtures/images/rgb8.png'))).resolves.toBeGreaterThan(0);
  });

  it('an already-aborted signal rejects without starting work', async () => {
    await expect(psnr(seeds[0], seeds[0], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
