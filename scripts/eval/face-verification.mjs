#!/usr/bin/env node
// Verification AUC of a face recogniser descriptor on the aligned LFW crops in
// ../shared/data/faces/lfw-aligned (`<n>-<Identity>_<k>.jpg`, 112x112, ArcFace-aligned):
// every same-identity pair plus as many seeded different-identity pairs; score = cosine of the
// embeddings (faceQuality with embeddings: true). Two alignment sources: the crops' own ArcFace
// template points (`--landmarks template`, every crop) and YuNet run on the crop (faces found only).
//
//   node scripts/eval/face-verification.mjs --method DIR/manifest.json [--seed 1] [--json]
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { faceQuality } from '../../dist/cjs/index.js';

const { values: a } = parseArgs({ options: { method: { type: 'string' }, seed: { type: 'string', default: '1' }, dir: { type: 'string' }, json: { type: 'boolean' } } });
if (!a.method) throw new Error('--method DESCRIPTOR is required');
const dir = resolve(a.dir ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'faces', 'lfw-aligned'));
const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
const identity = (f) => /^\d+-(.+)_\d+\.jpg$/.exec(f)[1];
const ARCFACE = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pairs(names, seed) {
  const same = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (identity(names[i]) === identity(names[j])) same.push([i, j]);
  const r = mulberry32(seed);
  const diff = new Set();
  while (diff.size < same.length) {
    const i = Math.floor(r() * names.length), j = Math.floor(r() * names.length);
    if (i !== j && identity(names[i]) !== identity(names[j])) diff.add(i < j ? `${i},${j}` : `${j},${i}`);
  }
  return { same, diff: [...diff].map((s) => s.split(',').map(Number)) };
}

const cosine = (x, y) => {
  let d = 0, nx = 0, ny = 0;
  for (let k = 0; k < x.length; k++) (d += x[k] * y[k]), (nx += x[k] * x[k]), (ny += y[k] * y[k]);
  return d / Math.sqrt(nx * ny);
};

// AUC = P(score of a genuine pair > score of an impostor pair), ties count half (Mann-Whitney).
function auc(genuine, impostor) {
  const all = [...genuine.map((s) => [s, 1]), ...impostor.map((s) => [s, 0])].sort((p, q) => p[0] - q[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const mid = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k][1]) rankSum += mid;
    i = j;
  }
  return (rankSum - (genuine.length * (genuine.length + 1)) / 2) / (genuine.length * impostor.length);
}

async function run(source) {
  const opts = { method: resolve(a.method), embeddings: true, ...(source === 'template' ? { landmarks: ARCFACE } : {}) };
  const results = await faceQuality.batch(files.map((f) => join(dir, f)), opts);
  const emb = results.map((r) => r.faces.find((f) => f.embedding)?.embedding ?? null);
  const names = files.filter((_, i) => emb[i]);
  const kept = emb.filter(Boolean);
  const { same, diff } = pairs(names, Number(a.seed));
  const genuine = same.map(([i, j]) => cosine(kept[i], kept[j]));
  const impostor = diff.map(([i, j]) => cosine(kept[i], kept[j]));
  return { source, images: files.length, embedded: kept.length, identities: new Set(names.map(identity)).size, genuinePairs: same.length, impostorPairs: diff.length, auc: auc(genuine, impostor) };
}

const out = [await run('template'), await run('yunet')];
if (a.json) console.log(JSON.stringify(out));
else for (const r of out) console.log(`${r.source.padEnd(9)} images ${r.embedded}/${r.images}, ${r.identities} identities, ${r.genuinePairs} genuine + ${r.impostorPairs} impostor pairs: AUC ${r.auc.toFixed(4)}`);
