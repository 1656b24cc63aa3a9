// NIQE speed: ours (native, one thread) vs pyiqa 0.1.16's NIQE (torch, CPU, one thread; the
// fastest reference that runs here: BasicSR/scikit-video are not installed and MATLAB is not
// available) on the same 512x512 images, decoded beforehand on both sides, in one run.
// Both use the official pristine model (../shared/data/niqe/niqe_pris_params.npz) and grey
// input; only the metric is timed.
// Usage: node bench/niqe.mjs [N=20] [PYTHON=/work/pyenv/bin/python]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = require(join(root, 'dist/cjs/index.js'));
const shared = join(root, '..', 'shared', 'data');
const N = Number(process.argv[2] ?? 20);
const python = process.argv[3] ?? process.env.PYTHON ?? '/work/pyenv/bin/python';
const model = join(shared, 'niqe/niqe_pris_params.npz');

const lines = readFileSync(join(shared, 'biq2021/train-subset.csv'), 'utf8').trim().split('\n').slice(1);
const files = lines.slice(0, N).map((l) => join(shared, 'biq2021/images', l.slice(0, l.lastIndexOf(',')).replace(/^"|"$/g, '')));

// --- ours: decoded grey pixels (MATLAB rgb2gray, uint8), one thread ---
iqa.concurrency(1);
const grey = [];
for (const f of files) {
  const d = await iqa.preprocess(f, { gray: 'matlab' });
  grey.push({ data: d.data, width: d.width, height: d.height, channels: 1 });
}
for (const g of grey.slice(0, 3)) await iqa.niqe(g, { model }); // warm-up (model load, tables)
const oursScores = [];
let best = Infinity;
const t0 = process.hrtime.bigint();
for (const g of grey) {
  const s = process.hrtime.bigint();
  oursScores.push(await iqa.niqe(g, { model }));
  best = Math.min(best, Number(process.hrtime.bigint() - s) / 1e6);
}
const oursMs = Number(process.hrtime.bigint() - t0) / 1e6 / grey.length;

// --- ours, batch on all cores ---
iqa.concurrency(0);
const threads = iqa.concurrency();
const tb = process.hrtime.bigint();
await iqa.niqe.batch(grey, { model });
const batchMs = Number(process.hrtime.bigint() - tb) / 1e6 / grey.length;

// --- pyiqa: the same grey pixels, float64, one torch thread ---
const py = `
import sys, json, time, numpy as np, torch
torch.set_num_threads(1)
from pyiqa.archs.niqe_arch import niqe
d = np.load(sys.argv[1]); mu = torch.from_numpy(d['mu_pris_param']).double(); cov = torch.from_numpy(d['cov_pris_param'][None]).double()
raw = sys.stdin.buffer.read(); n, h, w = json.loads(sys.argv[2])
imgs = np.frombuffer(raw, dtype=np.uint8).reshape(n, h, w)
ts = [torch.from_numpy(im.astype(np.float64))[None, None] for im in imgs]
for t in ts[:3]: niqe(t, mu, cov)
scores = []; best = 1e9; t0 = time.perf_counter()
for t in ts:
    s = time.perf_counter(); scores.append(float(niqe(t, mu, cov))); best = min(best, time.perf_counter() - s)
print(json.dumps({'ms': (time.perf_counter() - t0) * 1000 / n, 'best': best * 1000, 'scores': scores}))
`;
const same = grey.every((g) => g.width === grey[0].width && g.height === grey[0].height);
if (!same) throw new Error('bench expects images of one size');
const buf = Buffer.concat(grey.map((g) => Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength)));
const ref = JSON.parse(execFileSync(python, ['-c', py, model, JSON.stringify([grey.length, grey[0].height, grey[0].width])], { input: buf, maxBuffer: 1 << 26 }).toString());

const maxDiff = Math.max(...oursScores.map((s, i) => Math.abs(s - ref.scores[i])));
console.log(`NIQE, ${grey.length} BIQ2021 images ${grey[0].width}x${grey[0].height}, grey uint8 input, official pristine model`);
console.log(`ours (native, 1 thread)        ${oursMs.toFixed(2)} ms/image (best ${best.toFixed(2)})`);
console.log(`ours (batch, ${threads} threads)        ${batchMs.toFixed(2)} ms/image`);
console.log(`pyiqa 0.1.16 niqe (torch CPU, 1 thread) ${ref.ms.toFixed(2)} ms/image (best ${ref.best.toFixed(2)})`);
console.log(`ratio pyiqa / ours (1 thread)  ${(ref.ms / oursMs).toFixed(1)}x`);
console.log(`max |ours - pyiqa| score       ${maxDiff.toFixed(4)} (pyiqa deviates from the release: own Gaussian/resize/AGGD details)`);
