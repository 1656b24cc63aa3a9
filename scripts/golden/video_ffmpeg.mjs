#!/usr/bin/env node
// Writes test/golden/video_ffmpeg.json: ffmpeg's psnr and ssim filters (Debian `ffmpeg`) on the
// carphone pair in ../shared, per frame and pooled, run twice: as users run it (x86 SIMD on) and
// with `-cpuflags 0` (ffmpeg's C code), because the SIMD SSIM differs from the C code on planes
// whose width in 4x4 blocks is not a multiple of 4 (here the 88-pixel chroma planes).
// PSNR per frame comes from the metadata (6 decimals; the stats file rounds to 2), SSIM per frame
// from the stats file (6 decimals), the pooled values from the filters' summary lines.
//   node scripts/golden/video_ffmpeg.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const video = join(root, '..', 'shared', 'data', 'video');
const ref = join(video, 'carphone_pristine.mp4');
const dist = join(video, 'carphone_distorted.mp4');

function run(cpuflags) {
  const dir = mkdtempSync(join(tmpdir(), 'iqa-ffmpeg-'));
  const psnrMeta = join(dir, 'psnr.txt');
  const ssimStats = join(dir, 'ssim.txt');
  const args = ['-hide_banner', '-nostats', ...(cpuflags ? ['-cpuflags', cpuflags] : []), '-i', ref, '-i', dist, '-lavfi',
    `[0][1]psnr,metadata=mode=print:file=${psnrMeta};[0][1]ssim=stats_file=${ssimStats}`, '-f', 'null', '-'];
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed:\n${r.stderr}`);
  const stderr = r.stderr;
  const psnr = { mse_y: [], mse_u: [], mse_v: [], mse_avg: [], psnr_y: [], psnr_u: [], psnr_v: [], psnr_avg: [] };
  for (const line of readFileSync(psnrMeta, 'utf8').split('\n')) {
    const m = /^lavfi\.psnr\.(mse|psnr)(?:\.([yuv])|_avg)=(\S+)$/.exec(line);
    if (m) psnr[`${m[1]}_${m[2] ?? 'avg'}`].push(m[3] === 'inf' ? 'Infinity' : Number(m[3]));
  }
  const ssim = { ssim_y: [], ssim_u: [], ssim_v: [], ssim_all: [] };
  for (const line of readFileSync(ssimStats, 'utf8').split('\n')) {
    const m = /Y:(\S+) U:(\S+) V:(\S+) All:(\S+)/.exec(line);
    if (!m) continue;
    ssim.ssim_y.push(Number(m[1]));
    ssim.ssim_u.push(Number(m[2]));
    ssim.ssim_v.push(Number(m[3]));
    ssim.ssim_all.push(Number(m[4]));
  }
  const p = /PSNR y:(\S+) u:(\S+) v:(\S+) average:(\S+) min:(\S+) max:(\S+)/.exec(stderr);
  const s = /SSIM Y:(\S+) \S+ U:(\S+) \S+ V:(\S+) \S+ All:(\S+)/.exec(stderr);
  if (!p || !s) throw new Error(`no summary lines in ffmpeg's log:\n${stderr}`);
  rmSync(dir, { recursive: true });
  return {
    perFrame: { ...psnr, ...ssim },
    pooled: {
      psnr: { y: +p[1], u: +p[2], v: +p[3], average: +p[4], min: +p[5], max: +p[6] },
      ssim: { y: +s[1], u: +s[2], v: +s[3], all: +s[4] },
    },
  };
}

const version = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0];
const out = {
  source: `${version}; node scripts/golden/video_ffmpeg.mjs`,
  ref: 'data/video/carphone_pristine.mp4',
  dist: 'data/video/carphone_distorted.mp4',
  simd: run(null),
  c: run('0'),
};
writeFileSync(join(root, 'test', 'golden', 'video_ffmpeg.json'), JSON.stringify(out) + '\n');
console.log(`wrote test/golden/video_ffmpeg.json: ${out.simd.perFrame.psnr_y.length} frames`);
