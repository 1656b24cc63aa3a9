// Compares the shipped NIQE model (models/niqe-default.json) with the release's model
// (../shared/data/niqe/niqe_pris_params.npz) on the 5 calibration images and N BIQ2021 images
// (evenly spaced in train-subset.csv): scores, SROCC/PLCC between the two models, and each
// model's SROCC against BIQ2021 MOS (NIQE is lower-better, so -SROCC is reported).
// Usage: node scripts/niqe-model-report.mjs [N=500] [MODEL=models/niqe-default.json]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { niqe } = require(join(root, 'dist/cjs/index.js'));
const shared = join(root, '..', 'shared', 'data');
const N = Number(process.argv[2] ?? 500);
const ours = process.argv[3] ?? join(root, 'models/niqe-default.json');
const official = join(shared, 'niqe/niqe_pris_params.npz');

const ranks = (a) => {
  const idx = a.map((v, i) => [v, i]).sort((x, y) => x[0] - y[0]);
  const r = new Array(a.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
};
const pearson = (a, b) => {
  const n = a.length, ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) (ab += (a[i] - ma) * (b[i] - mb)), (aa += (a[i] - ma) ** 2), (bb += (b[i] - mb) ** 2);
  return ab / Math.sqrt(aa * bb);
};
const srocc = (a, b) => pearson(ranks(a), ranks(b));
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];

const cal = ['I03', 'I04', 'I06', 'I08', 'I19'].map((n) => join(shared, `calibration/dist_dir/${n}.bmp`));
const co = Array.from(await niqe.batch(cal, { model: official }));
const cd = Array.from(await niqe.batch(cal, { model: ours }));
console.log('calibration   I03     I04     I06     I08     I19');
console.log('official  ', co.map((v) => v.toFixed(3).padStart(7)).join(' '));
console.log('default   ', cd.map((v) => v.toFixed(3).padStart(7)).join(' '));
console.log(`calibration SROCC(default, official) = ${srocc(cd, co).toFixed(4)}`);

const lines = readFileSync(join(shared, 'biq2021/train-subset.csv'), 'utf8').trim().split('\n').slice(1);
const step = Math.max(1, Math.floor(lines.length / N));
const sel = Array.from({ length: Math.min(N, lines.length) }, (_, i) => lines[i * step]);
const files = sel.map((l) => join(shared, 'biq2021/images', l.slice(0, l.lastIndexOf(',')).replace(/^"|"$/g, '')));
const mos = sel.map((l) => Number(l.slice(l.lastIndexOf(',') + 1)));
const so = Array.from(await niqe.batch(files, { model: official }));
const sd = Array.from(await niqe.batch(files, { model: ours }));
const ok = so.map((v, i) => Number.isFinite(v) && Number.isFinite(sd[i]));
const f = (a) => a.filter((_, i) => ok[i]);
console.log(`BIQ2021: ${ok.filter(Boolean).length} of ${files.length} images scored by both`);
console.log(`SROCC(default, official) = ${srocc(f(sd), f(so)).toFixed(4)}  PLCC = ${pearson(f(sd), f(so)).toFixed(4)}`);
console.log(`-SROCC vs MOS: official ${(-srocc(f(so), f(mos))).toFixed(4)}  default ${(-srocc(f(sd), f(mos))).toFixed(4)}`);
console.log(`median score: official ${median(f(so)).toFixed(3)}  default ${median(f(sd)).toFixed(3)}`);
