// SER-FIQ, T = 100, on a full-size MagFace iResNet with seeded weights, side by side in one run:
//   ours       faceQuality(crop, {method, aligned: true}): the trunk once, the head on 100 masked copies
//   T passes   what the SER-FIQ authors' demo does: the whole network on 100 copies of the face
//              (onnxruntime-node: trunk.onnx on a batch of 100, then head.onnx with the same masks),
//              scored the same way
// Same graphs, same masks, same threads: the scores must agree; the ratio is the saving of the split.
//
//   node bench/serfiq.mjs [--arch iresnet50] [--faces 4] [--threads 2]
//   node bench/serfiq.mjs --manifest DIR/manifest.json [--faces 4]   an existing SER-FIQ export with real
//       weights (e.g. tools/export/facenet.py --serfiq-out-dir DIR); the LFW crops are first aligned to
//       its template (from their ArcFace points) and both sides score those crops
// Needs dist/, /work/pyenv (or IQA_PYTHON) with torch + onnx for the one-time export (cached in
// $IQA_BENCH_CACHE, /tmp/iqa-bench), and ../shared's LFW crops (a synthetic crop otherwise).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  return i > 0 ? process.argv[i + 1] : def;
};
const ARCH = arg('arch', 'iresnet50'), FACES = Number(arg('faces', 4)), THREADS = Number(arg('threads', cpus().length));
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
const MANIFEST = arg('manifest');
const dir = MANIFEST ? dirname(MANIFEST) : join(process.env.IQA_BENCH_CACHE ?? join(tmpdir(), 'iqa-bench'), `serfiq-${ARCH}`);
if (!MANIFEST && !existsSync(join(dir, 'manifest.json'))) {
  mkdirSync(dir, { recursive: true });
  console.log(`exporting SER-FIQ on ${ARCH} (seeded) to ${dir} ...`);
  execFileSync(python, [join(root, 'tools/export/serfiq.py'), '--weights', 'random', '--seed', '3', '--arch', ARCH, '--out-dir', dir], { stdio: ['ignore', 'inherit', 'ignore'] });
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const { passes: T, dropout: P, seed } = manifest.readout;
const lfw = join(root, '..', 'shared', 'data', 'faces', 'lfw-aligned');
let files = existsSync(lfw) ? readdirSync(lfw).sort().slice(0, FACES).map((f) => join(lfw, f)) : [join(root, 'test/fixtures/face/serfiq-tiny/pattern.png')];
const tpl = manifest.align.template;
const [W, H] = tpl === 'arcface112' ? [112, 112] : [tpl.width, tpl.height];
if (W !== 112 || H !== 112) {
  // Another template size: align the ArcFace-112 crops to it once; both sides then read those crops.
  const ARCFACE = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];
  const tmp = mkdtempSync(join(tmpdir(), 'iqa-serfiq-crops-'));
  files = await Promise.all(files.map(async (f, i) => {
    const r = await iqa.faceQuality(f, { method: join(dir, 'manifest.json'), landmarks: ARCFACE, crops: true });
    const out = join(tmp, `${i}.png`);
    writeFileSync(out, r.faces[0].crop);
    return out;
  }));
}
const { colorOrder, normalize } = manifest.input;
const per = (v) => (v.length === 1 ? [v[0], v[0], v[0]] : v);

// The masks iqa-node draws: splitmix64(seed), u = (next() >> 11) / 2^53, kept when u >= p.
function masks(channels) {
  const M = (1n << 64n) - 1n;
  let s = BigInt(seed);
  const out = new Float32Array(T * channels);
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x9e3779b97f4a7c15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    const u = Number((z ^ (z >> 31n)) >> 11n) * 2 ** -53;
    out[i] = u >= P ? 1 / (1 - P) : 0;
  }
  return out;
}
function serfiq(emb, d) {
  const u = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let n = 0;
    for (let k = 0; k < d; k++) n += emb[t * d + k] ** 2;
    n = Math.sqrt(n);
    for (let k = 0; k < d; k++) u[t * d + k] = emb[t * d + k] / n;
  }
  let sum = 0;
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += (u[i * d + k] - u[j * d + k]) ** 2;
    sum += Math.sqrt(s);
  }
  return 2 / (1 + Math.exp(sum / ((T * (T - 1)) / 2)));
}

const opts = { intraOpNumThreads: THREADS, executionProviders: ['cpu'] };
const trunk = await ort.InferenceSession.create(join(dir, 'trunk.onnx'), opts);
const head = await ort.InferenceSession.create(join(dir, 'head.onnx'), opts);
const method = join(dir, 'manifest.json');
await iqa.faceQuality(files[0], { method, aligned: true, intraOpThreads: THREADS }); // load once
console.log(`SER-FIQ T=${T} on ${MANIFEST ? manifest.name : ARCH}, ${files.length} aligned ${W}x${H} faces, ${THREADS} threads`);
let oursMs = 0, fullMs = 0, worst = 0;
for (const f of files) {
  let t0 = performance.now();
  const ours = (await iqa.faceQuality(f, { method, aligned: true, intraOpThreads: THREADS })).faces[0].raw;
  oursMs += performance.now() - t0;
  const px = await iqa.preprocess(f, { tensor: { rgb: colorOrder === 'rgb', mean: per(normalize.mean), std: per(normalize.std) } });
  t0 = performance.now();
  const batch = new Float32Array(T * px.data.length);
  for (let t = 0; t < T; t++) batch.set(px.data, t * px.data.length);
  const feats = (await trunk.run({ input: new ort.Tensor('float32', batch, [T, 3, H, W]) })).features;
  const c = manifest.readout.mask === 'channel' ? feats.dims[1] : feats.dims.slice(1).reduce((x, y) => x * y, 1);
  const emb = (await head.run({ features: feats, mask: new ort.Tensor('float32', masks(c), [T, c]) })).embedding;
  const full = serfiq(emb.data, emb.dims[1]);
  fullMs += performance.now() - t0;
  worst = Math.max(worst, Math.abs(full - ours));
}
console.log(`ours (trunk once, head x${T}): ${(oursMs / files.length).toFixed(0)} ms per face`);
console.log(`${T} full passes:            ${(fullMs / files.length).toFixed(0)} ms per face`);
console.log(`ratio: ${(fullMs / oursMs).toFixed(1)}x; scores agree within ${worst.toExponential(2)}`);
