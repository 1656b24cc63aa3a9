// HyperIQA on CPU, full-size architecture with seeded random weights, three pipelines side by side:
//   ours        Model.load(manifest).scoreMany(files): native decode/resize/crop/pack into the
//               shared batch tensor, ORT session, native target-net head, batches across images
//   ort-node    the typical Node pipeline: our preprocess() to decode, resize + crops + normalise
//               in JavaScript, onnxruntime-node InferenceSession.run per image (its K crops as a
//               batch), target net in JavaScript
//   pytorch     bench/hyperiqa_torch.py: the authors' transform with PIL, HyperNet + TargetNet
// All score K random 224x224 crops from a 512x384 (h x w) resize of each image.
//
//   node bench/hyperiqa-cpu.mjs [--images 16] [--crops 10] [--threads 0]
// Needs dist/ (npx tsc), /work/pyenv (or IQA_PYTHON) with torch + onnx, and ../shared/data/biq2021
// (synthetic images otherwise). The ONNX export (110 MB) is cached in $IQA_BENCH_CACHE (/tmp/iqa-bench).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = require(join(root, 'dist/cjs/index.js'));
const ort = require('onnxruntime-node');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('images', 16);
const K = arg('crops', 10);
const THREADS = arg('threads', 0);
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
const cache = process.env.IQA_BENCH_CACHE ?? join(tmpdir(), 'iqa-bench');
const manifest = join(cache, 'hyperiqa-random.json');
const onnxFile = join(cache, 'hyperiqa-random.onnx');
const state = join(cache, 'hyperiqa-random.pt');

if (!existsSync(manifest) || !existsSync(state)) {
  mkdirSync(cache, { recursive: true });
  console.log(`exporting full-size HyperIQA (random weights, seed 0) to ${cache} ...`);
  execFileSync(python, [join(root, 'tools/export/export_hyperiqa.py'), '--weights', 'random', '--seed', '0', '--out-dir', cache, '--name', 'hyperiqa-random', '--save-state', state], { stdio: 'inherit' });
}

// Images: BIQ2021 JPEGs (512x512) from ../shared, else synthetic PNG-free raw files.
const shared = join(root, '..', 'shared', 'data', 'biq2021', 'images');
let files;
if (existsSync(shared)) {
  files = readdirSync(shared).filter((f) => f.endsWith('.jpg')).sort().slice(0, N + 2).map((f) => join(shared, f));
} else {
  console.log('../shared not found: using synthetic BMP images');
  mkdirSync(join(cache, 'img'), { recursive: true });
  files = [];
  for (let i = 0; i < N + 2; i++) {
    const w = 512, h = 512, row = w * 3, size = 54 + row * h;
    const b = Buffer.alloc(size);
    b.write('BM', 0); b.writeUInt32LE(size, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
    b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28); b.writeUInt32LE(row * h, 34);
    for (let p = 54; p < size; p++) b[p] = (p * 7 + i * 13 + ((p / row) | 0)) & 255;
    const f = join(cache, 'img', `s${i}.bmp`);
    writeFileSync(f, b);
    files.push(f);
  }
}
const warm = files.slice(0, 2);
const timed = files.slice(2, 2 + N);
const ROUNDS = arg('rounds', 3);
const MAXBATCH = arg('max-batch', 16);
// The machine may be shared: the pipelines take turns on the same images, ROUNDS times, and
// each reports its median round.
const per = Math.ceil(timed.length / ROUNDS);
const roundsOf = (a) => Array.from({ length: ROUNDS }, (_, r) => a.slice(r * per, (r + 1) * per)).filter((x) => x.length);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// --- ours ---------------------------------------------------------------------------------
const model = await iqa.Model.load(manifest, { crops: K, maxBatch: MAXBATCH, intraOpThreads: THREADS || undefined });
await model.scoreMany(warm);
async function oursRound(imgs) {
  const t0 = performance.now();
  const s = await model.scoreMany(imgs);
  return { s: (performance.now() - t0) / 1000, scores: Array.from(s) };
}

// --- onnxruntime-node + JavaScript preprocessing ----------------------------------------------
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];
function resizeBilinear(src, sw, sh, dw, dh) {
  // src: BGR uint8 interleaved -> RGB float [0,1] interleaved
  const out = new Float32Array(dw * dh * 3);
  const sx = sw / dw, sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5), y0 = Math.min(sh - 1, fy | 0), y1 = Math.min(sh - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5), x0 = Math.min(sw - 1, fx | 0), x1 = Math.min(sw - 1, x0 + 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const s = 2 - c;
        const a = src[(y0 * sw + x0) * 3 + s], b = src[(y0 * sw + x1) * 3 + s], d = src[(y1 * sw + x0) * 3 + s], e = src[(y1 * sw + x1) * 3 + s];
        out[(y * dw + x) * 3 + c] = ((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy) / 255;
      }
    }
  }
  return out;
}
const sigmoid = (v) => 1 / (1 + Math.exp(-v));
function targetNet(outs, i) {
  let x = Array.from(outs.target_in_vec.data.subarray(i * 224, (i + 1) * 224));
  const sizes = [224, 112, 56, 28, 14, 1];
  for (let k = 0; k < 5; k++) {
    const n = sizes[k], m = sizes[k + 1];
    const w = outs[`fc${k + 1}w`].data, b = outs[`fc${k + 1}b`].data;
    const y = new Array(m);
    for (let o = 0; o < m; o++) {
      let acc = b[i * m + o];
      const base = (i * m + o) * n;
      for (let j = 0; j < n; j++) acc += w[base + j] * x[j];
      y[o] = k < 4 ? sigmoid(acc) : acc;
    }
    x = y;
  }
  return x[0];
}
const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', ...(THREADS ? { intraOpNumThreads: THREADS } : {}) });
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
async function jsScore(file) {
  const img = await iqa.preprocess(file);
  const rgb = resizeBilinear(img.data, img.width, img.height, 384, 512);
  const plane = 224 * 224;
  const batch = new Float32Array(K * 3 * plane);
  for (let k = 0; k < K; k++) {
    const x0 = Math.floor(rand() * (384 - 224 + 1)), y0 = Math.floor(rand() * (512 - 224 + 1));
    for (let c = 0; c < 3; c++) {
      const o = (k * 3 + c) * plane;
      for (let y = 0; y < 224; y++)
        for (let x = 0; x < 224; x++) batch[o + y * 224 + x] = (rgb[((y0 + y) * 384 + x0 + x) * 3 + c] - MEAN[c]) / STD[c];
    }
  }
  const outs = await session.run({ input: new ort.Tensor('float32', batch, [K, 3, 224, 224]) });
  let s = 0;
  for (let k = 0; k < K; k++) s += targetNet(outs, k);
  return s / K;
}
for (const f of warm) await jsScore(f);
async function jsRound(imgs) {
  const t0 = performance.now();
  const scores = [];
  for (const f of imgs) scores.push(await jsScore(f));
  return { s: (performance.now() - t0) / 1000, scores };
}

// --- PyTorch ---------------------------------------------------------------------------------
let torchVersion = '', torchThreads = 0;
function torchRound(imgs) {
  const py = spawnSync(python, [join(root, 'bench/hyperiqa_torch.py'), '--state', state, '--crops', String(K), '--threads', String(THREADS || cpus().length), '--warmup', '1', ...imgs], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`pytorch reference failed: ${py.stderr.slice(-800)}`);
  const j = JSON.parse(py.stdout.trim().split('\n').pop());
  torchVersion = j.torch;
  torchThreads = j.threads;
  return { s: j.seconds, scores: [j.meanScore] };
}

const res = { ours: [], js: [], torch: [] };
const scores = { ours: [], js: [], torch: [] };
for (const imgs of roundsOf(timed)) {
  for (const [name, fn] of [['ours', oursRound], ['js', jsRound], ['torch', torchRound]]) {
    const r = await fn(imgs);
    res[name].push((imgs.length * K) / r.s);
    scores[name].push(...r.scores);
  }
}
const info = model.info();
await model.close();

const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const row = (name, key) => console.log(`${name.padEnd(44)} ${median(res[key]).toFixed(2).padStart(8)} crops/s ${(median(res[key]) / K).toFixed(3).padStart(7)} images/s   rounds ${res[key].map((v) => v.toFixed(2)).join(' / ')}   mean score ${mean(scores[key]).toFixed(3)}`);
console.log(`HyperIQA full size (random weights), ${timed.length} images x ${K} crops of 224 from a 384x512 resize, ${ROUNDS} interleaved rounds (median); ${cpus().length} CPUs, load ${(await import('node:os')).loadavg()[0].toFixed(1)}; ORT ${info.ortVersion} (${info.device}), ours maxBatch ${info.maxBatch} (${info.batches} batches)`);
row('ours (Model.scoreMany)', 'ours');
row('onnxruntime-node + JS preprocessing', 'js');
row(`PyTorch ${torchVersion} eager (${torchThreads} threads)`, 'torch');
console.log(`ratio ours / onnxruntime-node: ${(median(res.ours) / median(res.js)).toFixed(2)}x`);
console.log(`ratio ours / PyTorch:          ${(median(res.ours) / median(res.torch)).toFixed(2)}x`);
