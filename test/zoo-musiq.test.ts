// MUSIQ (tools/export/export_musiq.py, tools/export/musiq_model.py) and the token mechanism it
// needs (crop policy 'tokens', preprocess.tokens, native/core/ort/tokens.cpp): the whole pipeline
// (decode, multi-scale token pyramid, buckets, ORT, head) against the official
// run_predict_image.py procedure re-implemented in numpy + PyTorch on seeded tiny weights
// (test/golden/musiq.json from scripts/golden/musiq_golden.py; unbucketed sequences there).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const TOL = 1e-4;
const FIX = join(ROOT, 'test/fixtures/musiq-tiny');
const MOS = join(FIX, 'musiq-tiny.json');
const AVA = join(FIX, 'musiq-ava-tiny.json');
type Row = { where: 'fixture' | 'shared'; file: string; tokens: number; 'musiq-tiny': number; 'musiq-ava-tiny': number; 'musiq-tiny-pil': number };
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/musiq.json'), 'utf8')) as { images: Row[] };
const imagePath = (g: Row) =>
  g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : existsSync(join(FIX, g.file)) ? join(FIX, g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file);
const row = (file: string) => golden.images.find((g) => g.file === file) as Row;
const manifest = () => JSON.parse(readFileSync(MOS, 'utf8')) as ModelManifest;
const raw = (width: number, height: number) => ({ data: new Uint8Array(3 * width * height).map((_, i) => (i * 37) % 251), width, height, channels: 3 as const });

let mos: Model, ava: Model, tmp: string;
beforeAll(async () => {
  [mos, ava] = await Promise.all([Model.load(MOS), Model.load(AVA)]);
  tmp = mkdtempSync(join(tmpdir(), 'iqa-musiq-'));
});
afterAll(async () => {
  await Promise.all([mos?.close(), ava?.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

describe("MUSIQ against the official run_predict_image.py procedure (seeded tiny models)", () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file} (${g.tokens} tokens): MOS head and AVA head within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      expect(Math.abs((await mos.score(imagePath(g))) - g['musiq-tiny'])).toBeLessThanOrEqual(TOL);
      expect(Math.abs((await ava.score(imagePath(g))) - g['musiq-ava-tiny'])).toBeLessThanOrEqual(TOL);
    });
  }
});

// The official checkpoint path: a seeded parameter tree in the official .npz layout, converted by
// export_musiq.py --checkpoint, against an independent numpy forward of the official model on
// that tree (scripts/golden/musiq_flax_golden.py, scripts/golden/musiq_flax_reference.py).
describe('MUSIQ from an official-layout Flax .npz (seeded tiny tree) against a numpy forward of the official model', () => {
  const flax = JSON.parse(readFileSync(join(ROOT, 'test/golden/musiq_flax.json'), 'utf8')) as { images: { where: 'fixture' | 'shared'; file: string; score: number }[] };
  let m: Model;
  beforeAll(async () => {
    m = await Model.load(join(FIX, 'musiq-flax-tiny.json'));
  });
  afterAll(async () => m?.close());
  for (const g of flax.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file}: within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      expect(Math.abs((await m.score(imagePath(g as Row))) - g.score)).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('token buckets (256, 384, 512, ... 4096)', () => {
  // 193 tokens of the two resized scales plus ceil(W / 32) ceil(H / 32) native ones.
  const boundaries = [
    ['b256-at.png', 256, 'fills bucket 256 exactly'],
    ['b256-over.png', 257, 'is one past bucket 256 (padded to 384)'],
    ['b384-at.png', 384, 'fills bucket 384 exactly (191:1 aspect)'],
    ['b384-over.png', 385, 'is one past bucket 384 (1 px high)'],
  ] as const;
  for (const [file, tokens, what] of boundaries) {
    it(`${file}: ${tokens} tokens ${what}; the score is the unpadded reference's`, async () => {
      const g = row(file);
      expect(g.tokens).toBe(tokens);
      expect(Math.abs((await mos.score(imagePath(g))) - g['musiq-tiny'])).toBeLessThanOrEqual(TOL);
    });
  }

  it('padding does not change the score: one 1024 bucket (up to 768 padding tokens) gives the same scores to 1e-5', async () => {
    const one = await Model.load(manifestVariant(MOS, tmp, 'one-bucket', (m) => (m.preprocess.tokens!.buckets = [1024])));
    try {
      for (const [file] of boundaries) expect(Math.abs((await one.score(join(FIX, file))) - (await mos.score(join(FIX, file))))).toBeLessThanOrEqual(1e-5);
    } finally {
      await one.close();
    }
  });

  it('every bucket boundary of the shipped manifests (exactly full, one past): the same score with every bucket 64 longer, to 1e-5', async () => {
    const buckets = (JSON.parse(readFileSync(MOS, 'utf8')) as ModelManifest).preprocess.tokens!.buckets;
    expect(buckets).toEqual([256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096]);
    // other padding for each: `b` tokens get 64 padding tokens instead of none, `b + 1` get 63 instead of the next bucket's
    const wide = await Model.load(manifestVariant(MOS, tmp, 'wide', (m) => (m.preprocess.tokens!.buckets = buckets.map((b) => b + 64))));
    // n native tokens as an r x c patch grid, r the largest divisor of n up to sqrt(n)
    const image = (n: number) => {
      let r = Math.floor(Math.sqrt(n));
      while (n % r) r--;
      const w = 32 * (n / r) - 5, h = 32 * r - 3; // not multiples of 32: SAME padding on both sides
      const data = new Uint8Array(3 * w * h);
      for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 9)) % 251;
      return { data, width: w, height: h, channels: 3 as const };
    };
    try {
      for (const b of buckets)
        for (const n of [b - 193, b - 192]) {
          const img = image(n);
          if (n + 193 > 4096) {
            expect((await rejection(mos.score(img))).code).toBe('ERR_TOO_LARGE');
            continue;
          }
          expect(Math.abs((await mos.score(img)) - (await wide.score(img))), `${n + 193} tokens`).toBeLessThanOrEqual(1e-5);
        }
    } finally {
      await wide.close();
    }
  }, 120_000);

  it('more tokens than the last bucket is ERR_TOO_LARGE, counted before any resize', async () => {
    const small = await Model.load(manifestVariant(MOS, tmp, 'small', (m) => (m.preprocess.tokens!.buckets = [256])));
    try {
      expect(Number.isFinite(await small.score(join(FIX, 'b256-at.png')))).toBe(true);
      const e = await rejection(small.score(join(FIX, 'b256-over.png')));
      expect(e.code).toBe('ERR_TOO_LARGE');
      expect(e.message).toMatch(/257 tokens, over the model's limit of 256/);
    } finally {
      await small.close();
    }
    // Default buckets: 66 x 66 native patches + 193 = 4549 > 4096.
    expect((await rejection(mos.score(raw(2100, 2100)))).code).toBe('ERR_TOO_LARGE');
  });
});

describe('MUSIQ inputs of any shape', () => {
  it('tiny, grey and extreme-aspect images give a finite score; a non-image is ERR_DECODE', async () => {
    for (const img of [raw(1, 1), raw(2, 3000), raw(3000, 2), join(ROOT, 'test/fixtures/images/gray8.png'), join(ROOT, 'test/fixtures/images/rgba8.png')])
      expect(Number.isFinite(await mos.score(img))).toBe(true);
    expect((await rejection(mos.score(Buffer.from('not an image')))).code).toBe('ERR_DECODE');
  });

  it("tokens.interp 'pil-bicubic' (the other backend) matches the reference run with Pillow bicubic", async () => {
    const pil = await Model.load(manifestVariant(MOS, tmp, 'pil-bicubic', (m) => (m.preprocess.tokens!.interp = 'pil-bicubic')));
    try {
      const fixtures = golden.images.filter((x) => x.where === 'fixture');
      for (const g of fixtures) expect(Math.abs((await pil.score(imagePath(g))) - g['musiq-tiny-pil'])).toBeLessThanOrEqual(TOL);
      // and the two backends' references differ by more than the tolerance
      expect(Math.max(...fixtures.map((g) => Math.abs(g['musiq-tiny-pil'] - g['musiq-tiny'])))).toBeGreaterThan(3 * TOL);
    } finally {
      await pil.close();
    }
  });

  it('the goldens tell the resize apart: OpenCV bilinear instead of the TF Gaussian moves the score past the tolerance', async () => {
    const other = await Model.load(manifestVariant(MOS, tmp, 'cv-bilinear', (m) => (m.preprocess.tokens!.interp = 'bilinear')));
    try {
      const g = row('b256-at.png');
      expect(Math.abs((await other.score(imagePath(g))) - g['musiq-tiny'])).toBeGreaterThan(3 * TOL);
    } finally {
      await other.close();
    }
  });

  it("a crop override on a token model (or 'tokens' on another) is ERR_INPUT at load", async () => {
    expect((await rejection(Model.load(MOS, { crop: 'center' }))).code).toBe('ERR_INPUT');
    expect((await rejection(Model.load(join(ROOT, 'test/fixtures/koniqplusplus-tiny/koniqplusplus-tiny.json'), { crop: 'tokens' }))).message).toMatch(/has no preprocess.tokens/);
  });
});

describe('preprocess.tokens in manifests', () => {
  const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
    const x = manifest();
    edit(x);
    expect(() => validateManifest(x)).toThrow(msg);
  };
  it('rejects inconsistent token manifests with ERR_MODEL', () => {
    expect(() => validateManifest(manifest())).not.toThrow();
    bad((x) => (x.preprocess.crop.policy = 'full'), /required with crop policy 'tokens', and only with it/);
    bad((x) => delete x.preprocess.tokens, /required with crop policy 'tokens'/);
    bad((x) => (x.input.height = 16), /token patches are square/);
    bad((x) => (x.preprocess.tokens!.buckets = [512, 256]), /must be ascending/);
    bad((x) => (x.preprocess.tokens!.buckets = [193]), /leaves no room past the 193 resized-scale tokens/);
    bad((x) => ((x.preprocess.tokens as unknown as Record<string, unknown>).patch = 16), /additional|patch/);
  });

  it('a graph whose inputs are not the declared token inputs is ERR_MODEL at load', async () => {
    const p = manifestVariant(MOS, tmp, 'wrong-inputs', (m) => (m.preprocess.tokens!.inputs.mask = 'padding'));
    const e = await rejection(Model.load(p));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/token input 'padding'/);
  });
});

// The official checkpoints on ../shared's calibration images (results_official.csv, 3 decimals):
// the pipeline follows the official procedure (TF Gaussian resize included), so the tolerance is
// 0.01; not measured here (no checkpoint is reachable).
const ckptDir = process.env.IQA_MUSIQ_CKPT_DIR;
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
describe.skipIf(!ckptDir || !HAS_SHARED)('official MUSIQ checkpoints on the calibration images (IQA_MUSIQ_CKPT_DIR with koniq_ckpt.npz etc.; needs ../shared)', () => {
  const csv = HAS_SHARED ? readFileSync(sharedPath('data/calibration/results_official.csv'), 'utf8').trim().split('\n') : [];
  const files = csv[0]?.split(',').slice(1) ?? [];
  for (const [name, dataset, tol] of [['musiq', 'koniq', 0.01], ['musiq-spaq', 'spaq', 0.01], ['musiq-paq2piq', 'paq2piq', 0.01], ['musiq-ava', 'ava', 0.01]] as const) {
    const ckpt = join(ckptDir ?? '', `${dataset}_ckpt.npz`);
    it.skipIf(!existsSync(ckpt))(`${name}: ${dataset}_ckpt.npz within ${tol} of results_official.csv`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'iqa-musiq-official-'));
      const r = spawnSync(python, [join(ROOT, 'tools/export/export_musiq.py'), '--checkpoint', ckpt, '--dataset', dataset, '--out-dir', out, '--name', name], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const m = await Model.load(join(out, `${name}.json`));
      const want = (csv.find((l) => l.startsWith(`${name},`)) as string).split(',').slice(1).map(Number);
      for (const [i, f] of files.entries()) expect(Math.abs((await m.score(sharedPath('data/calibration/dist_dir', f))) - want[i])).toBeLessThanOrEqual(tol);
      await m.close();
      rmSync(out, { recursive: true, force: true });
    }, 600_000);
  }
});

describe('iqa score --metric musiq (no Python needed)', () => {
  it('scores with the seeded manifest as the goldens', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const g = row('tiny.png');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'musiq', '--model', MOS, '--format', 'jsonl', '--no-progress', imagePath(g)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(Math.abs((JSON.parse(r.stdout.trim()) as { score: number }).score - g['musiq-tiny'])).toBeLessThanOrEqual(TOL);
  }, 60_000);
});

// The card's import arguments on an official-layout .npz (the seeded tiny tree of the Flax goldens).
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'numpy']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, onnx, onnxruntime and numpy (set IQA_PYTHON): skipping the MUSIQ import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);
describe.skipIf(!!IMPORT_SKIP)('musiq from an official-layout .npz (iqa models import + iqa score)', () => {
  it('imports with the card arguments and scores the fixtures as the numpy official forward', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const ck = join(tmp, 'koniq_ckpt.npz');
    const write = [
      'import sys, dataclasses, numpy as np',
      'sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])',
      'from musiq_flax_reference import random_tree',
      'from musiq_model import TINY',
      'np.savez(sys.argv[3], **random_tree(TINY.to_dict(), 5))',
    ].join('\n');
    const gen = spawnSync(PYTHON!, ['-c', write, join(ROOT, 'scripts/golden'), join(ROOT, 'tools/export'), ck], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'musiq', '--checkpoint', ck, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    const flax = JSON.parse(readFileSync(join(ROOT, 'test/golden/musiq_flax.json'), 'utf8')) as { images: { where: string; file: string; score: number }[] };
    const fixtures = flax.images.filter((g) => g.where === 'fixture');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'musiq', '--format', 'jsonl', '--no-progress', ...fixtures.map((g) => imagePath(g as Row))], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    for (const g of fixtures) expect(Math.abs(recs.find((x) => x.input === imagePath(g as Row))!.score - g.score)).toBeLessThanOrEqual(TOL);
  }, 180_000);
});
