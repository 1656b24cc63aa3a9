#!/usr/bin/env node
// compareVideos (PSNR + SSIM per frame) side by side with what it replaces:
//   ffmpeg -threads T -filter_threads T -i ref -i dist -lavfi "[0][1]psnr;[0][1]ssim" -f null -
// timed as a user runs it (process start included), against one compareVideos call in this
// process (addon loaded once before timing). Pairs: the carphone pair in ../shared (120 frames,
// 176x144) and bikes.mp4 (250 frames, 640x272) against an x264 CRF 35 re-encode made here.
// Medians of alternating runs; prints frames/s and ratios, and checks the two agree on the
// pooled PSNR. Run after `npm run build`:  node bench/video-fr.mjs [--quick]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const iqa = require(join(root, 'dist/cjs/index.js'));
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const video = join(root, '..', 'shared', 'data', 'video');
if (!existsSync(video)) {
  console.log(`../shared/data/video not found: nothing to benchmark`);
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'iqa-bench-video-'));
const bikesDist = join(tmp, 'bikes_crf35.mp4');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', join(video, 'bikes.mp4'), '-c:v', 'libx264', '-crf', '35', '-preset', 'fast', '-an', bikesDist]);
const pairs = [
  ['carphone 176x144', join(video, 'carphone_pristine.mp4'), join(video, 'carphone_distorted.mp4')],
  ['bikes 640x272', join(video, 'bikes.mp4'), bikesDist],
];

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

function runFfmpeg(ref, dist, threads) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-threads', String(threads), '-i', ref, '-threads', String(threads), '-i', dist,
    '-filter_threads', String(threads), '-lavfi', '[0][1]psnr;[0][1]ssim', '-f', 'null', '-'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(r.stderr);
  const frames = Number(/frame=\s*(\d+)/.exec(r.stderr)?.[1]);
  const avg = Number(/PSNR .*average:(\S+)/.exec(r.stderr)?.[1]);
  return { ms, frames, avg };
}

async function runOurs(ref, dist, threads) {
  iqa.concurrency(threads);
  const t0 = process.hrtime.bigint();
  const r = await iqa.compareVideos(ref, dist, { metrics: ['psnr', 'ssim'], decodeThreads: threads });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, frames: r.frames, avg: r.ffmpeg.psnr.average };
}

console.log(`ffmpeg: ${execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0]}`);
console.log(`iqa-node compareVideos, ${RUNS} alternating runs each, medians (wall time; ffmpeg's includes its process start)`);
await runOurs(pairs[0][1], pairs[0][2], 1); // load the addon
for (const [name, ref, dist] of pairs) {
  for (const threads of [1, 2]) {
    const f = [], o = [];
    let fr, or;
    for (let i = 0; i < RUNS; i++) {
      fr = runFfmpeg(ref, dist, threads);
      f.push(fr.ms);
      or = await runOurs(ref, dist, threads);
      o.push(or.ms);
    }
    if (fr.frames !== or.frames) throw new Error(`${name}: ffmpeg compared ${fr.frames} frames, we compared ${or.frames}`);
    if (Math.abs(fr.avg - or.avg) > 1e-5) throw new Error(`${name}: pooled PSNR differs: ffmpeg ${fr.avg}, ours ${or.avg}`);
    const ffps = (fr.frames * 1000) / median(f), ofps = (or.frames * 1000) / median(o);
    console.log(
      `${name.padEnd(18)} threads ${threads}  ffmpeg ${median(f).toFixed(1).padStart(7)} ms ${ffps.toFixed(0).padStart(6)} fps   ` +
        `iqa-node ${median(o).toFixed(1).padStart(7)} ms ${ofps.toFixed(0).padStart(6)} fps   ratio ${(ofps / ffps).toFixed(2)}x   ` +
        `(PSNR average ${or.avg.toFixed(6)} = ffmpeg ${fr.avg.toFixed(6)})`,
    );
  }
}
