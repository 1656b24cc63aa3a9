#!/usr/bin/env node
// Verification AUC of a face recogniser descriptor; score = cosine of the embeddings (faceQuality
// with embeddings: true).
//
// Default data: the aligned LFW crops in ../shared/data/faces/lfw-aligned (`<n>-<Identity>_<k>.jpg`,
// 112x112, ArcFace-aligned; EQFace's test set). Pairs from the names: every same-identity pair plus
// as many seeded different-identity pairs. `--rule distinct-images` keeps only the genuine pairs whose
// crops come from different LFW photos (`_k` differs): EQFace cut every face of a photo, bystanders
// included, and named each crop after the photo's person, so two crops of one photo are often two
// people. Two alignment sources: the crops' own ArcFace template points (every crop) and YuNet run on
// the crop (faces found only).
//
// `--pairs FILE --dir DIR`: a labelled pair list instead (CR-FIQA's "a b same", CSV, or deepface's
// tests/unit/dataset/master.csv with Yes/No), photos detected with YuNet, the largest face kept.
//
//   node scripts/eval/face-verification.mjs --method DIR/manifest.json [--rule all|distinct-images] [--seed 1] [--json]
//   node scripts/eval/face-verification.mjs --method DIR/manifest.json --pairs master.csv --dir PHOTOS [--json]
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { faceQuality } from '../../dist/cjs/index.js';
import { readPairs } from '../../dist/cjs/cli/face-eval.js';

const { values: a } = parseArgs({ options: { method: { type: 'string' }, seed: { type: 'string', default: '1' }, dir: { type: 'string' }, pairs: { type: 'string' }, rule: { type: 'string', default: 'all' }, json: { type: 'boolean' } } });
if (!a.method) throw new Error('--method DESCRIPTOR is required');
if (!['all', 'distinct-images'].includes(a.rule)) throw new Error('--rule is all or distinct-images');
const dir = resolve(a.dir ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'faces', 'lfw-aligned'));
const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
const identity = (f) => /^\d+-(.+)_\d+\.jpg$/.exec(f)[1];
const photo = (f) => /^\d+-(.+_\d+)\.jpg$/.exec(f)[1];
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
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++)
      if (identity(names[i]) === identity(names[j]) && (a.rule === 'all' || photo(names[i]) !== photo(names[j]))) same.push([i, j]);
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
  // The largest face with an embedding (a photo of a pair list may show bystanders).
  const area = (f) => f.box[2] * f.box[3];
  const emb = results.map((r) => r.faces.filter((f) => f.embedding).sort((p, q) => area(q) - area(p))[0]?.embedding ?? null);
  if (a.pairs) {
    const byName = new Map(files.map((f, i) => [f, emb[i]]));
    const listed = readPairs(a.pairs);
    const kept = listed.filter((p) => byName.get(p.a) && byName.get(p.b));
    const score = (p) => cosine(byName.get(p.a), byName.get(p.b));
    const genuine = kept.filter((p) => p.same).map(score), impostor = kept.filter((p) => !p.same).map(score);
    return { source, images: files.length, embedded: emb.filter(Boolean).length, pairsListed: listed.length, genuinePairs: genuine.length, impostorPairs: impostor.length, auc: auc(genuine, impostor) };
  }
  const names = files.filter((_, i) => emb[i]);
  const kept = emb.filter(Boolean);
  const { same, diff } = pairs(names, Number(a.seed));
  const genuine = same.map(([i, j]) => cosine(kept[i], kept[j]));
  const impostor = diff.map(([i, j]) => cosine(kept[i], kept[j]));
  return { source, rule: a.rule, images: files.length, embedded: kept.length, identities: new Set(names.map(identity)).size, genuinePairs: same.length, impostorPairs: diff.length, auc: auc(genuine, impostor) };
}

const out = a.pairs ? [await run('yunet')] : [await run('template'), await run('yunet')];
if (a.json) console.log(JSON.stringify(out));
else
  for (const r of out)
    console.log(`${r.source.padEnd(9)} images ${r.embedded}/${r.images}, ${r.identities !== undefined ? `${r.identities} identities, rule ${r.rule}, ` : `${r.pairsListed} pairs listed, `}${r.genuinePairs} genuine + ${r.impostorPairs} impostor pairs: AUC ${r.auc.toFixed(4)}`);
