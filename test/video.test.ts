// Video: the frame source (containers, raw yuv420p, frame selection, hostile input with typed
// codes), per-frame PSNR/SSIM against ffmpeg's psnr/ssim filters (test/golden/video_ffmpeg.json,
// scripts/golden/video_ffmpeg.mjs), no-reference scores per frame, and temporal pooling against
// VSFA's PyTorch pooling (test/golden/vsfa_pool.json, scripts/golden/vsfa_pool.py).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVideos, probeVideo, sharpness, videoQuality, vsfaPool, poolScores } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath } from './helpers';

const fixture = (name: string) => join(ROOT, 'test/fixtures/video', name);
const tmp = mkdtempSync(join(tmpdir(), 'iqa-video-'));
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/video_ffmpeg.json'), 'utf8'));
const carphone = (k: 'pristine' | 'distorted') => sharedPath('data/video', `carphone_${k}.mp4`);

/** A raw yuv420p file of `frames` frames: Y a gradient plus `offset`, chroma flat. */
function rawVideo(name: string, width: number, height: number, frames: number, offset = 0): string {
  const cw = Math.ceil(width / 2), ch = Math.ceil(height / 2);
  const frame = width * height + 2 * cw * ch;
  const buf = Buffer.alloc(frame * frames);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < width * height; i++) buf[f * frame + i] = Math.min(255, ((i * 7 + f * 3) % 200) + offset);
    buf.fill(128, f * frame + width * height, (f + 1) * frame);
  }
  const path = join(tmp, name);
  writeFileSync(path, buf);
  return path;
}

function maxAbsDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - theirs[i]));
  return m;
}

describe.skipIf(!HAS_SHARED)(`ffmpeg psnr/ssim parity on the carphone pair ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  it('per frame and pooled, within the 6 decimals ffmpeg prints', async () => {
    const r = await compareVideos(carphone('pristine'), carphone('distorted'), { metrics: ['psnr', 'ssim'] });
    expect(r.frames).toBe(120);
    expect(r.unmatchedFrames).toEqual({ ref: 0, dist: 0 });
    const v = r.perFrame.values;
    // PSNR and MSE are exact integer sums; ffmpeg hands them to its metadata as float (half an
    // ulp: 6e-8 relative) and prints 6 decimals (5e-7).
    for (const col of ['mse_y', 'mse_u', 'mse_v', 'mse_avg', 'psnr_y', 'psnr_u', 'psnr_v', 'psnr_avg'])
      v[col].forEach((x, i) => expect(Math.abs(x - golden.simd.perFrame[col][i]), `${col}[${i}]`).toBeLessThanOrEqual(5e-7 + 6e-8 * Math.abs(x)));
    // SSIM: each 8x8 window in float as ffmpeg's C code; the luma plane also matches its SIMD
    // code, the chroma planes (88 pixels: 22 blocks of 4, not a multiple of 4) match the C code.
    expect(maxAbsDiff(v.ssim_y, golden.simd.perFrame.ssim_y)).toBeLessThanOrEqual(1e-6);
    for (const col of ['ssim_y', 'ssim_u', 'ssim_v', 'ssim_all']) expect(maxAbsDiff(v[col], golden.c.perFrame[col]), col).toBeLessThanOrEqual(1e-6);
    // How far ffmpeg's default (SIMD) chroma SSIM is from its own C code, kept as a bound.
    expect(maxAbsDiff(v.ssim_u, golden.simd.perFrame.ssim_u)).toBeLessThan(0.01);
    const p = golden.simd.pooled.psnr;
    expect(r.ffmpeg.psnr!.y).toBeCloseTo(p.y, 5);
    expect(r.ffmpeg.psnr!.u).toBeCloseTo(p.u, 5);
    expect(r.ffmpeg.psnr!.v).toBeCloseTo(p.v, 5);
    expect(r.ffmpeg.psnr!.average).toBeCloseTo(p.average, 5);
    expect(Math.min(...r.perFrame.values.psnr_avg)).toBeCloseTo(p.min, 5);
    expect(Math.max(...r.perFrame.values.psnr_avg)).toBeCloseTo(p.max, 5);
    const s = golden.c.pooled.ssim;
    expect(r.ffmpeg.ssim!.y).toBeCloseTo(golden.simd.pooled.ssim.y, 6);
    expect(r.ffmpeg.ssim!.u).toBeCloseTo(s.u, 6);
    expect(r.ffmpeg.ssim!.v).toBeCloseTo(s.v, 6);
    expect(r.ffmpeg.ssim!.all).toBeCloseTo(s.all, 6);
    expect(r.pooled.ssim_y.mean).toBeCloseTo(r.ffmpeg.ssim!.y, 12);
  });

  it('streams the same per-frame values, in chunks of any size', async () => {
    const all = await compareVideos(carphone('pristine'), carphone('distorted'), { metrics: ['psnr'], chunk: 7 });
    const seen: number[] = [];
    for await (const f of compareVideos.stream(carphone('pristine'), carphone('distorted'), { metrics: ['psnr', 'gmsd'], chunk: 5 })) {
      expect(f.values.psnr_y).toBe(all.perFrame.values.psnr_y[f.index]);
      expect(f.values.gmsd).toBeGreaterThan(0);
      seen.push(f.index);
    }
    expect(seen).toEqual([...Array(120).keys()]);
  });

  it('frame selection: step, maxFrames, time range and timestamps', async () => {
    const info = await probeVideo(carphone('pristine'));
    expect(info).toMatchObject({ width: 176, height: 144, frameCount: 120, codec: 'h264', pixelFormat: 'yuv420p' });
    expect(info.fps).toBeCloseTo(30000 / 1001, 9);
    const full = await compareVideos(carphone('pristine'), carphone('distorted'), { metrics: ['psnr'] });
    const some = await compareVideos(carphone('pristine'), carphone('distorted'), { metrics: ['psnr'], step: 4, maxFrames: 10 });
    expect(Array.from(some.perFrame.index)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    for (let i = 0; i < 10; i++) expect(some.perFrame.values.psnr_y[i]).toBe(full.perFrame.values.psnr_y[4 * i]);
    // Seeking lands on the exact frame, not the key frame before it.
    const range = await compareVideos(carphone('pristine'), carphone('distorted'), { metrics: ['psnr'], start: 1.5, end: 2.5 });
    const first = Math.ceil(1.5 * info.fps - 0.5), last = Math.ceil(2.5 * info.fps - 0.5) - 1;
    expect(range.perFrame.index[0]).toBe(first);
    expect(range.perFrame.index[range.frames - 1]).toBe(last);
    for (let i = 0; i < range.frames; i++) {
      const k = range.perFrame.index[i];
      expect(range.perFrame.values.psnr_y[i]).toBe(full.perFrame.values.psnr_y[k]);
      expect(range.perFrame.time[i]).toBeCloseTo(full.perFrame.time[k], 9);
      expect(range.perFrame.time[i]).toBeCloseTo(k / info.fps, 3);
    }
  });

  it('no-reference metrics per frame, pooled', async () => {
    const q = await videoQuality(carphone('pristine'), { metric: 'sharpness', step: 10 });
    expect(q.frames).toBe(12);
    expect(Array.from(q.perFrame.index)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(q.pooled.mean).toBeCloseTo(q.perFrame.scores.reduce((a, b) => a + b, 0) / 12, 9);
    expect(q.pooled.min).toBe(Math.min(...q.perFrame.scores));
    // The frames are the decoder's BGR frames: the image metric on the same pixels agrees.
    const records = [];
    for await (const r of videoQuality.stream(carphone('pristine'), { metric: 'sharpness', maxFrames: 2 })) records.push(r);
    expect(records.map((r) => r.index)).toEqual([0, 1]);
    expect(records[0].score).toBe(q.perFrame.scores[0]);
    expect(await rejection(videoQuality(carphone('pristine'), { metric: 'psnr' }))).toMatchObject({ code: 'ERR_INPUT' });
    expect(sharpness).toBeTypeOf('function');
  });

  it('mismatched frame sizes are ERR_INPUT', async () => {
    const e = await rejection(compareVideos(carphone('pristine'), sharedPath('data/video/bikes.mp4')));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/176x144.*640x272/);
  });

  it('aborts with ERR_ABORTED', async () => {
    const ac = new AbortController();
    const p = compareVideos(carphone('pristine'), carphone('distorted'), { chunk: 8, signal: ac.signal, onProgress: () => ac.abort() });
    expect((await rejection(p)).code).toBe('ERR_ABORTED');
  });
});

describe('containers and raw yuv420p', () => {
  it.each(['testsrc.mp4', 'testsrc.mkv', 'testsrc.webm', 'testsrc.avi', 'testsrc.y4m'])('%s: 10 frames, identical to itself', async (name) => {
    const r = await compareVideos(fixture(name), fixture(name), { metrics: ['psnr', 'ssim'] });
    expect(r.frames).toBe(10);
    expect(r.ref).toMatchObject({ width: 64, height: 48 });
    expect(r.pooled.psnr_y.min).toBe(Infinity);
    expect(r.pooled.ssim_all.min).toBe(1);
  });

  it('a stream the consumer leaves early closes its files at once, not at GC', async () => {
    const path = fixture('testsrc.mkv');
    const openOn = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;
    const before = openOn();
    for await (const r of videoQuality.stream(path, { metric: 'sharpness', chunk: 2 })) {
      expect(openOn()).toBe(before + 1);
      expect(r.index).toBe(0);
      break;
    }
    expect(openOn()).toBe(before);
    for await (const r of compareVideos.stream(path, path, { metrics: ['psnr'], chunk: 2 })) {
      expect(openOn()).toBe(before + 2);
      expect(r.index).toBe(0);
      break;
    }
    expect(openOn()).toBe(before);
  });

  it('raw yuv420p: frames, timestamps and PSNR of a known offset', async () => {
    const a = rawVideo('a.yuv', 33, 17, 6), b = rawVideo('b.yuv', 33, 17, 6, 2);
    const r = await compareVideos({ path: a, width: 33, height: 17, fps: 10 }, { path: b, width: 33, height: 17, fps: 10 }, { metrics: ['psnr'] });
    expect(r.frames).toBe(6);
    r.perFrame.time.forEach((t, i) => expect(t).toBeCloseTo(i / 10, 12));
    // Every luma sample differs by 2 (no value reaches the clamp), chroma is equal.
    for (const mse of r.perFrame.values.mse_y) expect(mse).toBe(4);
    for (const mse of r.perFrame.values.mse_u) expect(mse).toBe(0);
    expect(r.perFrame.values.psnr_y[0]).toBeCloseTo(10 * Math.log10((255 * 255) / 4), 12);
    const tail = await compareVideos({ path: a, width: 33, height: 17, fps: 10 }, { path: a, width: 33, height: 17, fps: 10 }, { start: 0.25, metrics: ['psnr'] });
    expect(Array.from(tail.perFrame.index)).toEqual([3, 4, 5]);
  });

  it('videos of different lengths: the shorter one sets the frames compared', async () => {
    const a = rawVideo('long.yuv', 16, 16, 9), b = rawVideo('short.yuv', 16, 16, 5);
    const r = await compareVideos({ path: a, width: 16, height: 16 }, { path: b, width: 16, height: 16 }, { metrics: ['psnr'], chunk: 2 });
    expect(r.frames).toBe(5);
    expect(r.unmatchedFrames).toEqual({ ref: 4, dist: 0 });
  });
});

describe('hostile input: typed errors, no crash, no hang', () => {
  const code = async (p: Promise<unknown>) => (await rejection(p)).code;
  it('missing file, directory, FIFO: ERR_INPUT', async () => {
    expect(await code(compareVideos(join(tmp, 'nope.mp4'), join(tmp, 'nope.mp4')))).toBe('ERR_INPUT');
    expect(await code(probeVideo(tmp))).toBe('ERR_INPUT');
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await code(probeVideo(fifo))).toBe('ERR_INPUT'); // a pipe with no writer would block a read
  });
  it('wrong container (not a video): ERR_DECODE', async () => {
    expect(await code(probeVideo(join(ROOT, 'package.json')))).toBe('ERR_DECODE');
    expect(await code(videoQuality(join(ROOT, 'test/golden/video_ffmpeg.json')))).toBe('ERR_DECODE');
  });
  it('truncated file: ERR_DECODE', async () => {
    const bytes = readFileSync(fixture('testsrc.mp4'));
    const cut = join(tmp, 'cut.mp4');
    writeFileSync(cut, bytes.subarray(0, 2000)); // header kept, most frames cut off
    expect(await code(compareVideos(cut, cut))).toBe('ERR_DECODE');
    const headless = join(tmp, 'headless.mp4');
    writeFileSync(headless, bytes.subarray(1000));
    expect(await code(probeVideo(headless))).toBe('ERR_DECODE');
    const raw = rawVideo('odd.yuv', 16, 16, 2);
    writeFileSync(raw, readFileSync(raw).subarray(0, 500));
    expect(await code(compareVideos({ path: raw, width: 16, height: 16 }, { path: raw, width: 16, height: 16 }))).toBe('ERR_DECODE');
  });
  it('zero frames: ERR_DECODE', async () => {
    expect(await code(probeVideo(fixture('empty.mp4')))).toBe('ERR_DECODE');
    const empty = join(tmp, 'empty.yuv');
    writeFileSync(empty, Buffer.alloc(0));
    expect(await code(probeVideo({ path: empty, width: 16, height: 16 }))).toBe('ERR_DECODE');
  });
  it('absurd dimensions: ERR_TOO_LARGE; bad geometry and options: ERR_INPUT', async () => {
    const raw = rawVideo('tiny.yuv', 16, 16, 1);
    expect(await code(probeVideo({ path: raw, width: 100000, height: 100000 }))).toBe('ERR_TOO_LARGE');
    expect(await code(probeVideo(fixture('testsrc.mp4'), { limitInputPixels: 1000 }))).toBe('ERR_TOO_LARGE');
    expect(await code(probeVideo({ path: raw, width: 0, height: 16 }))).toBe('ERR_INPUT');
    expect(await code(probeVideo({ path: raw, width: 16, height: 16, fps: -1 }))).toBe('ERR_INPUT');
    expect(await code(compareVideos(raw, raw, { metrics: ['vmaf' as 'psnr'] }))).toBe('ERR_INPUT');
    expect(await code(compareVideos(raw, raw, { step: 0 }))).toBe('ERR_INPUT');
    expect(await code(compareVideos(raw, raw, { start: 2, end: 1 }))).toBe('ERR_INPUT');
    expect(await code(compareVideos(raw, raw, { chunk: 1e6 }))).toBe('ERR_INPUT');
    expect(await code(compareVideos(fixture('testsrc.mp4'), fixture('testsrc.mp4'), { start: 50 }))).toBe('ERR_INPUT'); // no frames in range
    // MS-SSIM needs frames of at least 176 pixels per side: the metric's own ERR_INPUT.
    expect(await code(compareVideos(fixture('testsrc.mp4'), fixture('testsrc.mp4'), { metrics: ['ms-ssim'] }))).toBe('ERR_INPUT');
  });
});

describe('temporal pooling', () => {
  const cases = JSON.parse(readFileSync(join(ROOT, 'test/golden/vsfa_pool.json'), 'utf8')).cases;
  it.each(cases.map((c: { scores: number[] }, i: number) => [i, c.scores.length, c]))('VSFA pooling matches PyTorch (case %i, %i frames)', (_i, _n, c) => {
    expect(Math.abs(vsfaPool(c.scores, c.tau, c.beta) - c.pooled)).toBeLessThan(1e-12);
  });
  it('mean, harmonic mean, min, percentiles', () => {
    const p = poolScores([4, 1, 2, 3]);
    expect(p).toMatchObject({ mean: 2.5, min: 1, max: 4, p50: 2.5 });
    expect(p.harmonicMean).toBeCloseTo(4 / (1 + 1 / 2 + 1 / 3 + 1 / 4), 12);
    expect(p.p5).toBeCloseTo(1.15, 12); // numpy.percentile([1,2,3,4], 5)
    expect(() => vsfaPool([1], 0)).toThrow(/tau/);
  });
});

describe('iqa video', () => {
  const CLI = join(ROOT, 'dist/cjs/cli/index.js');
  const iqa = (...args: string[]) => spawnSync(process.execPath, [CLI, 'video', ...args], { encoding: 'utf8' });
  it('compare: pooled JSONL and per-frame CSV with the API values', async () => {
    const a = rawVideo('cli-a.yuv', 32, 32, 4), b = rawVideo('cli-b.yuv', 32, 32, 4, 3);
    const api = await compareVideos({ path: a, width: 32, height: 32 }, { path: b, width: 32, height: 32 }, { metrics: ['psnr', 'ssim'] });
    const pooled = iqa('compare', a, b, '--raw', '32x32');
    expect(pooled.status).toBe(0);
    const rec = JSON.parse(pooled.stdout);
    expect(rec).toMatchObject({ frames: 4, psnr_y: api.ffmpeg.psnr!.y, ssim_all: api.ffmpeg.ssim!.all, ssim_y_min: api.pooled.ssim_y.min });
    const csv = iqa('compare', a, b, '--raw', '32x32@10', '--per-frame', '--format', 'csv', '--metrics', 'psnr', '--step', '2').stdout.trim().split('\n');
    expect(csv[0]).toBe('input,ref,frame,time,mse_y,mse_u,mse_v,mse_avg,psnr_y,psnr_u,psnr_v,psnr_avg');
    expect(csv.slice(1).map((l) => l.split(',').slice(2, 5))).toEqual([['0', '0', '9'], ['2', '0.2', '9']]);
    expect(iqa('compare', a, b, '--metrics', 'vmaf').status).toBe(2);
  });
  it('score: pooled records, a failed video recorded with its code, --resume skips what is done', () => {
    const out = join(tmp, 'scores.jsonl');
    const bad = join(tmp, 'bad.mp4');
    writeFileSync(bad, 'not a video');
    const first = iqa('score', fixture('testsrc.mp4'), bad, '--metric', 'sharpness', '--out', out);
    expect(first.status).toBe(1);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ input: fixture('testsrc.mp4'), metric: 'sharpness', frames: 10 });
    expect(lines[1]).toMatchObject({ input: bad, error: { code: 'ERR_DECODE' } });
    const again = iqa('score', fixture('testsrc.mp4'), fixture('testsrc.mkv'), '--metric', 'sharpness', '--out', out, '--resume');
    expect(again.stderr).toMatch(/1 videos scored.*skipped 1/);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(iqa('score', fixture('testsrc.mp4'), '--metric', 'sharpness', '--option', 'nope=1').status).toBe(2);
  });
});

describe('long videos in constant memory', () => {
  it('10,000 frames (Y4M through the decoder): RSS flat while streaming', async () => {
    const width = 64, height = 48, frames = 10_000;
    const path = join(tmp, 'long.y4m');
    const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F25:1 Ip A1:1 C420jpeg\n`);
    const frameHeader = Buffer.from('FRAME\n');
    const plane = width * height * 1.5;
    const body = Buffer.alloc(frames * (frameHeader.length + plane));
    for (let f = 0; f < frames; f++) {
      const at = f * (frameHeader.length + plane);
      frameHeader.copy(body, at);
      body.fill(f % 251, at + frameHeader.length, at + frameHeader.length + width * height);
      body.fill(128, at + frameHeader.length + width * height, at + frameHeader.length + plane);
    }
    writeFileSync(path, Buffer.concat([header, body]));
    let n = 0, baseline = 0, peak = 0;
    for await (const f of compareVideos.stream(path, path, { metrics: ['psnr', 'ssim'], chunk: 64 })) {
      expect(f.values.ssim_all).toBe(1);
      n++;
      if (n === 1000) baseline = process.memoryUsage().rss;
      if (n > 1000 && n % 500 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(n).toBe(frames);
    // 9,000 more frames of 4.6 kB each per video: a leak of one frame per frame would add ~80 MB.
    expect(peak - baseline).toBeLessThan(24 * 1024 * 1024);
  }, 60_000);
});
