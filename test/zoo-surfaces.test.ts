// Every deep no-reference and full-reference model of the registry through each way a user calls
// it by name: Model.load(NAME), the registry's metric function, scoreStream (NR), `iqa score` /
// `iqa compare` and the example server's /score and /compare, each with the committed seeded
// fixture installed under the card's manifest name in a temporary IQA_MODEL_DIR (what
// `iqa models import` leaves there). Each model's parity with its reference is in its own test
// file; this one checks that the surfaces agree with Model.load on the same input, and that a
// name without a model gives ERR_MODEL naming the import command.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, encode, registryCards, resolveMetric, scoreStream } from '../dist/cjs/index.js';
import { ROOT, syntheticRgb } from './helpers';
import { call, startServer, type Running } from './server-helpers';

// card name -> the committed fixture manifest that stands in for an imported checkpoint
const NR: Record<string, string> = {
  cnniqa: 'cnniqa-seeded/manifest.json',
  dbcnn: 'dbcnn-tiny/dbcnn-tiny.json',
  deepbiq: 'deepbiq-tiny/deepbiq-tiny.json',
  diqa: 'diqa-tiny/manifest.json',
  'diqam-nr': 'diqam-nr-seeded/manifest.json',
  graphiqa: 'graphiqa-tiny/graphiqa-tiny.json',
  hyperiqa: 'hyperiqa-tiny/model-authors.json',
  koncept512: 'koncept512-tiny/koncept512-tiny.json',
  koniqplusplus: 'koniqplusplus-tiny/koniqplusplus-tiny.json',
  musiq: 'musiq-tiny/musiq-tiny.json',
  'musiq-ava': 'musiq-tiny/musiq-ava-tiny.json',
  'musiq-paq2piq': 'musiq-tiny/musiq-tiny.json', // same graph and head as musiq's, another checkpoint
  'musiq-spaq': 'musiq-tiny/musiq-tiny.json',
  nima: 'nima-tiny/nima-tiny.json',
  // pyiqa's NIMA checkpoints (60-220 MB) have no committed fixture: stand-ins with the same head
  // type (its parity is test/zoo-nima-pyiqa.test.ts); this checks the name's dispatch only.
  'nima-pyiqa': 'nima-tiny/nima-tiny.json',
  'nima-vgg16-ava-pyiqa': 'nima-tiny/nima-tiny.json',
  'nima-koniq-pyiqa': 'koncept512-tiny/koncept512-tiny.json',
  'nima-spaq-pyiqa': 'koncept512-tiny/koncept512-tiny.json',
  'norm-in-norm': 'norm-in-norm-tiny/norm-in-norm-tiny.json',
  rankiqa: 'rankiqa-tiny/rankiqa-tiny.json',
  tres: 'tres-tiny/tres-tiny.json',
  'wadiqam-nr': 'wadiqam-nr-seeded/manifest.json',
  'wadiqam-nr-pyiqa': 'wadiqam-nr-pyiqa-checkpoint/manifest.json',
};
const FR: Record<string, string> = {
  'diqam-fr': 'diqam-fr-seeded/manifest.json',
  'wadiqam-fr': 'wadiqam-fr-seeded/manifest.json',
  'wadiqam-fr-pyiqa': 'wadiqam-fr-pyiqa-seeded/manifest.json',
};
const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

const cards = new Map(registryCards().map((c) => [c.name, c]));
const manifestName = (card: string) => (cards.get(card) as { manifest?: string } | undefined)?.manifest ?? card;

let modelDir: string;
let img: Buffer;
let img2: Buffer;
let imgFile: string;
let refFile: string;
let distFile: string;
let srv: Running;
const savedModelDir = process.env.IQA_MODEL_DIR;

beforeAll(async () => {
  modelDir = mkdtempSync(join(tmpdir(), 'iqa-zoo-surfaces-'));
  for (const [card, rel] of Object.entries({ ...NR, ...FR })) {
    const dest = join(modelDir, manifestName(card));
    cpSync(join(ROOT, 'test/fixtures', dirname(rel)), dest, { recursive: true });
    writeFileSync(join(dest, 'manifest.json'), readFileSync(join(ROOT, 'test/fixtures', rel)));
  }
  process.env.IQA_MODEL_DIR = modelDir;
  // 288 x 256: large enough for every crop policy of the fixtures (224 crops, 32 patches).
  img = await encode(syntheticRgb(288, 256, 7), { format: 'png' });
  img2 = await encode(syntheticRgb(288, 256, 8), { format: 'png' });
  const files = mkdtempSync(join(tmpdir(), 'iqa-zoo-images-'));
  [imgFile, refFile, distFile] = ['img.png', 'ref.png', 'dist.jpg'].map((f) => join(files, f));
  writeFileSync(imgFile, img);
  writeFileSync(refFile, img);
  writeFileSync(distFile, await encode(syntheticRgb(288, 256, 7), { format: 'jpeg', quality: 30 }));
  srv = await startServer({ IQA_MODEL_DIR: modelDir });
}, 120_000);

afterAll(async () => {
  if (savedModelDir === undefined) delete process.env.IQA_MODEL_DIR;
  else process.env.IQA_MODEL_DIR = savedModelDir;
  await srv?.stop();
});

describe('deep NR models by name: Model.load, metric function, stream, CLI and server agree', () => {
  it('covers every available deep NR card of the registry', () => {
    const deepNr = registryCards().filter((c) => c.kind === 'nr' && 'manifest' in c && !('available' in c && c.available));
    expect(deepNr.map((c) => c.name).sort()).toEqual(Object.keys(NR).sort());
  });

  for (const card of Object.keys(NR)) {
    it(card, async () => {
      const model = await Model.load(manifestName(card));
      const want = [await model.score(img), await model.score(img2)];
      await model.close();
      expect(want.every(Number.isFinite)).toBe(true);

      const fn = resolveMetric(card).fn as (i: Buffer) => Promise<number>;
      expect(close(await fn(img), want[0])).toBe(true);

      const streamed: number[] = [];
      for await (const r of Readable.from([img, img2]).pipe(scoreStream(card, { maxBatch: 2 }))) streamed.push((r as { score: number }).score);
      expect(streamed.length).toBe(2);
      expect(streamed.every((s, i) => close(s, want[i]))).toBe(true);

      const cli = spawnSync(process.execPath, [CLI, 'score', '--metric', card, '--format', 'jsonl', imgFile], { encoding: 'utf8', env: { ...process.env, IQA_MODEL_DIR: modelDir } });
      expect(cli.status, cli.stderr).toBe(0);
      expect(close(JSON.parse(cli.stdout.trim().split('\n')[0]).score, want[0])).toBe(true);

      const r = await call(`${srv.base}/score?metric=${card}`, { method: 'POST', body: img, headers: { 'content-type': 'image/png' } });
      expect(r.status, r.text).toBe(200);
      expect(close(r.json.score, want[0])).toBe(true);
    }, 120_000);
  }
});

describe('deep FR models by name: Model.load, metric function, CLI and server agree', () => {
  for (const card of Object.keys(FR)) {
    it(card, async () => {
      const model = await Model.load(manifestName(card));
      const want = await model.scorePair(refFile, distFile);
      await model.close();
      expect(Number.isFinite(want)).toBe(true);

      const fn = resolveMetric(card).fn as (a: string, b: string) => Promise<number>;
      expect(close(await fn(refFile, distFile), want)).toBe(true);

      const cli = spawnSync(process.execPath, [CLI, 'compare', '--metric', card, refFile, distFile], { encoding: 'utf8', env: { ...process.env, IQA_MODEL_DIR: modelDir } });
      expect(cli.status, cli.stderr).toBe(0);
      expect(close(JSON.parse(cli.stdout).score, want)).toBe(true);

      const form = new FormData();
      form.append('ref', new Blob([readFileSync(refFile)]), 'ref.png');
      form.append('dist', new Blob([readFileSync(distFile)]), 'dist.jpg');
      const r = await call(`${srv.base}/compare?metric=${card}`, { method: 'POST', body: form });
      expect(r.status, r.text).toBe(200);
      expect(close(r.json.score, want)).toBe(true);
    }, 120_000);
  }
});

describe('a card whose model is not installed', () => {
  it('is ERR_MODEL naming `iqa models import`', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'iqa-zoo-empty-'));
    const cli = spawnSync(process.execPath, [CLI, 'score', '--metric', 'musiq', imgFile], { encoding: 'utf8', env: { ...process.env, IQA_MODEL_DIR: empty, XDG_CACHE_HOME: empty } });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/ERR_MODEL: [\s\S]*iqa models import musiq --checkpoint FILE/);
  });
});
