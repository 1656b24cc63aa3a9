#!/usr/bin/env node
// SSIM drop-ins side by side with the packages they replace, in one process, on the same raw
// RGBA pixels (no decoding timed on either side): ssim.js 3.5 in every mode, image-ssim 0.2,
// and OpenCV quality's QualitySSIM (C++ tool native/tools/opencv_fr_ref, if built) against our
// main-API ssim(). Prints medians and ratios. Run after `npm run build`:
//   node bench/ssim.mjs [--quick]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const iqa = require(join(root, 'dist/cjs/index.js'));
const ours = require(join(root, 'dist/cjs/compat/ssimjs.js'));
const oursImageSsim = require(join(root, 'dist/cjs/compat/image-ssim.js'));
const ssimJs = require('ssim.js');
const imageSsim = require('image-ssim');
const quick = process.argv.includes('--quick');
// A full GC (untimed) between blocks, so that no contender pays for the garbage the other one
// left (ssim.js allocates hundreds of MB per call on large images).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const BLOCK = 5; // calls per contender per turn

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function syntheticPair(width, height) {
  const r = rng(width * 7 + height);
  const a = new Uint8ClampedArray(width * height * 4), b = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const x = i % width, y = (i / width) | 0;
    for (let c = 0; c < 3; c++) {
      const v = 128 + 90 * Math.sin((x * (c + 2)) / 37 + (y * (3 - c)) / 29) + 30 * (r() - 0.5);
      a[4 * i + c] = v;
      b[4 * i + c] = v + 24 * (r() - 0.5);
    }
    a[4 * i + 3] = b[4 * i + 3] = 255;
  }
  return [
    { data: a, width, height },
    { data: b, width, height },
  ];
}

async function calibrationPair() {
  const shared = join(root, '..', 'shared', 'data', 'calibration');
  if (!existsSync(shared)) return null;
  const load = async (p) => {
    const im = await iqa.preprocess(p);
    const n = im.width * im.height, out = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      out[4 * i] = im.data[3 * i + 2];
      out[4 * i + 1] = im.data[3 * i + 1];
      out[4 * i + 2] = im.data[3 * i];
      out[4 * i + 3] = 255;
    }
    return { data: out, width: im.width, height: im.height };
  };
  return [await load(join(shared, 'ref_dir/I03.bmp')), await load(join(shared, 'dist_dir/I03.bmp'))];
}

const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];

/**
 * Interleaves the contenders, repeating until each has run `minMs` in total (at least `minReps`).
 * Reports the median wall time and the median process CPU time (user + system, all threads) per
 * call: on a shared, loaded machine the CPU time is the steadier of the two.
 */
async function race(contenders, { minMs = quick ? 300 : 1500, minReps = 3, maxReps = 400 } = {}) {
  const times = contenders.map(() => []);
  const cpus = contenders.map(() => []);
  const total = contenders.map(() => 0);
  for (const c of contenders) await c.fn(); // warm-up
  // Contenders take turns in blocks of BLOCK calls (machine load drifts; alternating blocks
  // expose both to it alike), with an untimed GC before each block.
  for (let rep = 0; rep < maxReps; rep += BLOCK) {
    for (let i = 0; i < contenders.length; i++) {
      gc();
      for (let k = 0; k < BLOCK; k++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await contenders[i].fn();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const c = process.cpuUsage(c0);
        times[i].push(ms);
        cpus[i].push((c.user + c.system) / 1000);
        total[i] += ms;
        if (total[i] > minMs * 20) break; // a very slow anchor: fewer calls
      }
    }
    if (rep + BLOCK >= minReps && total.every((t) => t >= minMs)) break;
    if (rep + BLOCK >= minReps && total.some((t) => t > minMs * 20)) break; // a very slow anchor
  }
  return times.map((t, i) => ({ median: median(t), cpu: median(cpus[i]), reps: t.length }));
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)).padStart(8);
const rows = [];
function report(size, what, anchorName, anchor, mine) {
  const ratio = anchor.median / mine.median;
  const cpuRatio = anchor.cpu !== undefined ? anchor.cpu / mine.cpu : undefined;
  rows.push({ size, what, anchorName, anchorMs: anchor.median, oursMs: mine.median, ratio, anchorCpuMs: anchor.cpu, oursCpuMs: mine.cpu, cpuRatio });
  const cpu = cpuRatio !== undefined ? `   cpu ${fmt(anchor.cpu)} / ${fmt(mine.cpu)} ms ${cpuRatio.toFixed(1).padStart(6)}x` : '';
  console.log(
    `${size.padEnd(10)} ${what.padEnd(34)} ${anchorName.padEnd(12)} ${fmt(anchor.median)} ms  ours ${fmt(mine.median)} ms ${ratio.toFixed(1).padStart(6)}x${cpu}  (n=${anchor.reps}/${mine.reps})`,
  );
}

const cal = await calibrationPair();
const load = (await import('node:os')).loadavg()[0];
const pairs = [
  ['512x384', cal ?? syntheticPair(512, 384), cal ? 'TID2013 I03 (calibration)' : 'synthetic'],
  ['1920x1080', syntheticPair(1920, 1080), 'synthetic'],
];
console.log(`node ${process.version}; ssim.js ${require('ssim.js/package.json').version}, image-ssim ${require('image-ssim/package.json').version}; iqa-node OpenCV ${iqa.versions().opencv}, ${iqa.versions().threads.batch} threads; load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
console.log('columns: anchor median wall ms, ours median wall ms, ratio; then median CPU ms per call (anchor / ours) and ratio');
for (const [size, [a, b], source] of pairs) {
  console.log(`\n${size} pair: ${source}`);
  for (const mode of ['weber', 'fast', 'original', 'bezkrovny']) {
    const opts = { ssim: mode };
    const [t, o] = await race([{ fn: () => ssimJs.ssim(a, b, opts) }, { fn: () => ours.ssim(a, b, opts) }]);
    report(size, `ssim.js {ssim:'${mode}'}`, 'ssim.js', t, o);
  }
  const [t, o] = await race([
    { fn: () => imageSsim.compare({ ...a, channels: 4 }, { ...b, channels: 4 }) },
    { fn: () => oursImageSsim.compare({ ...a, channels: 4 }, { ...b, channels: 4 }) },
  ]);
  report(size, 'image-ssim compare (RGBA)', 'image-ssim', t, o);
}

// OpenCV quality's QualitySSIM (C++, 11x11 Gaussian, float32, full-size map) against our main-API
// ssim() (double precision, Wang's valid region) on the same size; the C++ tool times OpenCV on
// a random pair of the size (SSIM's cost does not depend on content).
const tool = join(root, 'build-tools', 'opencv_fr_ref');
console.log('');
if (!existsSync(tool)) {
  console.log('OpenCV quality: build-tools/opencv_fr_ref not built (cmake -S . -B build-tools -DIQA_BUILD_TOOLS=ON -DIQA_BUILD_ADDON=OFF && cmake --build build-tools --target opencv_fr_ref)');
} else {
  for (const [size, [a, b]] of pairs) {
    const cv = JSON.parse(execFileSync(tool, ['--bench', size, quick ? '10' : '30'], { encoding: 'utf8' }));
    const gray = (img) => {
      const n = img.width * img.height, g = new Uint8Array(n);
      for (let i = 0; i < n; i++) g[i] = (77 * img.data[4 * i] + 150 * img.data[4 * i + 1] + 29 * img.data[4 * i + 2] + 128) >> 8;
      return { data: g, width: img.width, height: img.height, channels: 1 };
    };
    const ga = gray(a), gb = gray(b);
    const rgb = (img) => ({ data: img.data, width: img.width, height: img.height, channels: 4, order: 'rgba' });
    const [g1] = await race([{ fn: () => iqa.ssim(ga, gb) }]);
    const [c3] = await race([{ fn: () => iqa.ssim(rgb(a), rgb(b), { channels: 'rgb', border: 'reflect101' }) }]);
    const [f1] = await race([{ fn: () => ours.ssim(a, b, { ssim: 'fast', downsample: false }) }]);
    report(size, 'grey SSIM: ssim() async', 'OpenCV 1thr', { median: cv.ssim_gray_1thread_ms, reps: cv.reps }, g1);
    report(size, "grey SSIM: ssim.js {fast, no ds}", 'OpenCV 1thr', { median: cv.ssim_gray_1thread_ms, reps: cv.reps }, f1);
    report(size, `BGR SSIM: ssim({rgb, reflect101})`, `OpenCV ${cv.threads}thr`, { median: cv.ssim_bgr_ms, reps: cv.reps }, c3);
  }
}
console.log('\n' + JSON.stringify({ results: rows }));
