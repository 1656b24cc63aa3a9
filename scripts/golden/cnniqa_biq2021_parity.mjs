#!/usr/bin/env node
// Real-weight CNNIQA parity on the 3,000 shared BIQ2021 images: the independent PyTorch reference
// (scripts/golden/cnniqa_reference.py, the authors' LIVE weights) against iqa-node's pipeline on
// the same model exported by tools/export/export_cnniqa.py. Prints the largest per-image delta
// and writes both score lists to --out (JSON) when given.
//   node scripts/golden/cnniqa_biq2021_parity.mjs [--python /work/pyenv/bin/python] [--limit N] [--out FILE]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = resolve(ROOT, '..', 'shared');
const { values: o } = parseArgs({ options: { python: { type: 'string', default: process.env.IQA_PYTHON ?? '/work/pyenv/bin/python' }, limit: { type: 'string' }, out: { type: 'string' } } });
const { Model } = await import(join(ROOT, 'dist/esm/index.mjs'));

const checkpoint = join(SHARED, 'models/cnniqa/CNNIQA-LIVE');
const imagesDir = join(SHARED, 'data/biq2021/images');
const rows = readFileSync(join(SHARED, 'data/biq2021/train-subset.csv'), 'utf8').trim().split('\n').slice(1);
let names = rows.map((r) => r.slice(0, r.lastIndexOf(','))).sort();
if (o.limit) names = names.slice(0, Number(o.limit));
const tmp = mkdtempSync(join(tmpdir(), 'cnniqa-biq-'));

const exp = spawnSync(o.python, [join(ROOT, 'tools/export/export_cnniqa.py'), '--checkpoint', checkpoint, '--out-dir', join(tmp, 'model')], { encoding: 'utf8' });
if (exp.status !== 0) throw new Error(`export failed:\n${exp.stderr}`);

let t = performance.now();
const refFile = join(tmp, 'reference.json');
const ref = spawnSync(o.python, [join(ROOT, 'scripts/golden/cnniqa_reference.py'), '--checkpoint', checkpoint, '--out', refFile, ...names.map((n) => join(imagesDir, n))], {
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
if (ref.status !== 0) throw new Error(`reference failed:\n${ref.stderr}`);
const refSeconds = (performance.now() - t) / 1000;
const reference = JSON.parse(readFileSync(refFile, 'utf8'));

t = performance.now();
const model = await Model.load(join(tmp, 'model/manifest.json'), { maxBatch: 256 });
const ours = await model.scoreMany(names.map((n) => join(imagesDir, n)));
await model.close();
const oursSeconds = (performance.now() - t) / 1000;

let worst = 0;
let worstName = '';
names.forEach((n, i) => {
  const d = Math.abs(ours[i] - reference[n].score);
  if (d > worst) [worst, worstName] = [d, n];
});
const over = names.filter((n, i) => Math.abs(ours[i] - reference[n].score) > 1e-4).length;
console.log(`${names.length} BIQ2021 images, CNNIQA-LIVE: max |ours - reference| = ${worst.toExponential(2)} (${worstName}); ${over} over 1e-4`);
console.log(`reference ${refSeconds.toFixed(1)} s (PyTorch + scipy, includes its start-up), ours ${oursSeconds.toFixed(1)} s`);
if (o.out) writeFileSync(o.out, JSON.stringify({ names, ours, reference: names.map((n) => reference[n].score) }) + '\n');
process.exitCode = over ? 1 : 0;
