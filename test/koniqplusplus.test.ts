// KonIQ++ (tools/export/export_koniqplusplus.py, tools/export/koniqplusplus_model.py): the whole
// pipeline (decode, Pillow-bilinear resize to 480 x 640, ORT, q k + b, the four defects) against
// an independent functional PyTorch run of the authors' test_image.py --resize procedure on a
// seeded tiny-width model (test/golden/koniqplusplus.json from scripts/golden/koniqplusplus_golden.py),
// and the manifest mechanisms it needs: head.extras (Model.detail) and score.affine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const TOL = 1e-4;
const FIX = join(ROOT, 'test/fixtures/koniqplusplus-tiny');
const MANIFEST = join(FIX, 'koniqplusplus-tiny.json');
const DEFECTS = ['noise', 'blur', 'contrast', 'color'] as const;
interface Golden {
  k: number;
  b: number;
  images: { where: 'fixture' | 'shared'; file: string; score: number; defects: Record<(typeof DEFECTS)[number], number> }[];
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/koniqplusplus.json'), 'utf8')) as Golden;
const imagePath = (g: Golden['images'][number]) => (g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file));
const manifest = () => JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;

let model: Model;
let tmp: string;
beforeAll(async () => {
  model = await Model.load(MANIFEST);
  tmp = mkdtempSync(join(tmpdir(), 'iqa-koniqpp-'));
});
afterAll(async () => {
  await model?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('KonIQ++ against the authors\' test procedure (seeded tiny model)', () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file}: score and four defects within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const d = await model.detail(imagePath(g));
      expect(Math.abs(d.score - g.score)).toBeLessThanOrEqual(TOL);
      expect(Object.keys(d.extras)).toEqual([...DEFECTS]);
      for (const n of DEFECTS) expect(Math.abs(d.extras[n] - g.defects[n])).toBeLessThanOrEqual(TOL);
      expect(await model.score(imagePath(g))).toBe(d.score);
    });
  }

  // All eight images are enlarged to 480 x 640, where the two bilinears differ least (7.6e-4 on img0).
  it('the goldens tell the resize apart: OpenCV bilinear instead of Pillow moves the score past the tolerance', async () => {
    const p = manifestVariant(MANIFEST, tmp, 'cv-bilinear', (m) => (m.preprocess.resize = { width: 640, height: 480, interp: 'bilinear' }));
    const other = await Model.load(p);
    try {
      const g = golden.images[0];
      expect(Math.abs((await other.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
    } finally {
      await other.close();
    }
  });

  it('score.affine is q k + b: without it the score is the raw quality output', async () => {
    const p = manifestVariant(MANIFEST, tmp, 'no-affine', (m) => delete m.score.affine);
    const raw = await Model.load(p);
    try {
      const g = golden.images[1];
      expect(Math.abs((await raw.score(imagePath(g))) * golden.k + golden.b - g.score)).toBeLessThanOrEqual(TOL);
      expect((await raw.detail(imagePath(g))).extras.blur).toBeCloseTo(g.defects.blur, 4);
    } finally {
      await raw.close();
    }
  });

  it('tiny, huge-aspect and grey images give a score, not a crash (one fixed 480 x 640 input)', async () => {
    const tiny = { data: new Uint8Array(3 * 2 * 1).fill(128), width: 2, height: 1, channels: 3 as const };
    const strip = { data: new Uint8Array(3 * 4000 * 3).map((_, i) => (i * 37) % 251), width: 4000, height: 3, channels: 3 as const };
    for (const img of [tiny, strip, join(ROOT, 'test/fixtures/images/gray8.png')]) expect(Number.isFinite(await model.score(img))).toBe(true);
    expect((await rejection(model.detail(Buffer.from('not an image')))).code).toBe('ERR_DECODE');
  });
});

describe('head.extras and score.affine in manifests', () => {
  it('rejects extras that do not fit the declared outputs with ERR_MODEL', () => {
    const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
      const x = manifest();
      edit(x);
      expect(() => validateManifest(x)).toThrow(msg);
    };
    bad((x) => (x.head.extras![0].output = 'nowhere'), /'nowhere' is not a declared output/);
    bad((x) => (x.head.extras![1].name = 'noise'), /name 'noise' appears twice/);
    bad((x) => (x.head.extras![3].index = 4), /index 4 of 'color' is outside output 'defects' \(4 values per sample\)/);
    bad((x) => (x.head.extras = [{ name: '9lives', output: 'defects' }]), /extras/);
    bad((x) => ((x.score as { affine: unknown }).affine = { scale: 2 }), /affine/);
  });

  it('a model without extras gives detail() an empty extras object, and an index past a symbolic output fails at load', async () => {
    const hyper = await Model.load(join(ROOT, 'test/fixtures/hyperiqa-tiny/model.json'));
    try {
      const d = await hyper.detail(join(ROOT, 'test/fixtures/hyperiqa-tiny/img0.png'));
      expect(d.extras).toEqual({});
      expect(Number.isFinite(d.score)).toBe(true);
    } finally {
      await hyper.close();
    }
    // The manifest says [batch, 4]; a manifest claiming more values than the graph has fails when the session loads.
    const p = manifestVariant(MANIFEST, tmp, 'wide', (m) => {
      m.outputs[1].shape = ['batch', 9];
      m.head.extras![3].index = 8;
    });
    const e = await rejection(Model.load(p));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/defects/);
  });
});

describe('iqa score --format jsonl with a model that has extras (no Python needed)', () => {
  it('writes the four defects next to the score, and an error record without them for a broken file', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const g = golden.images[0];
    const broken = join(tmp, 'broken.png');
    writeFileSync(broken, 'not a png');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'koniqplusplus', '--model', MANIFEST, '--format', 'jsonl', '--no-progress', imagePath(g), broken], { encoding: 'utf8' });
    expect(r.status).toBe(1); // one input failed
    const [ok, bad] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { score?: number; extras?: Record<string, number>; error?: { code: string } });
    expect(Math.abs(ok.score! - g.score)).toBeLessThanOrEqual(TOL);
    for (const n of DEFECTS) expect(Math.abs(ok.extras![n] - g.defects[n])).toBeLessThanOrEqual(TOL);
    expect(bad.error?.code).toBe('ERR_DECODE');
    expect(bad.extras).toBeUndefined();
    // CSV keeps its fixed columns.
    const csv = spawnSync(process.execPath, [CLI, 'score', '--metric', 'koniqplusplus', '--model', MANIFEST, '--format', 'csv', '--no-progress', imagePath(g)], { encoding: 'utf8' });
    expect(csv.stdout.split('\n')[0]).toBe('input,metric,score,error_code,error_message');
  }, 60_000);
});

// The authors' checkpoint layout (a dict with 'model', 'k', 'b'; DataParallel 'module.' names) of
// the tiny config through `iqa models import` and `iqa score --format jsonl`, which carries the extras.
const PYTHON = pythonWith(['torch', 'torchvision', 'onnx', 'onnxruntime']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, torchvision, onnx and onnxruntime (set IQA_PYTHON): skipping the KonIQ++ import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('koniqplusplus from an authors-format checkpoint (iqa models import + iqa score)', () => {
  it('scores the fixture images as the goldens and writes the four defects in JSONL', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const ck = join(tmp, 'koniqpp.pth');
    const write = [
      'import sys, torch',
      "sys.path.insert(0, sys.argv[1])",
      'from koniqplusplus_model import KonIQPlusPlus, TINY, randomize',
      'import onnx, onnx.numpy_helper',
      // The fixture's weights: export with the same seed reproduces them (export_koniqplusplus.py --seed 3).
      'net = randomize(KonIQPlusPlus(TINY), 3)',
      "torch.save({'model': {'module.' + k: v for k, v in net.state_dict().items()}, 'k': [float(sys.argv[3])], 'b': [float(sys.argv[4])]}, sys.argv[2])",
    ].join('\n');
    const gen = spawnSync(PYTHON!, ['-c', write, join(ROOT, 'tools/export'), ck, String(golden.k), String(golden.b)], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'koniqplusplus', '--checkpoint', ck, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'koniqplusplus', 'koniqplusplus.json'))).toBe(true);
    const fixtures = golden.images.filter((g) => g.where === 'fixture');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'koniqplusplus', '--format', 'jsonl', '--no-progress', ...fixtures.map(imagePath)], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number; extras: Record<string, number> });
    expect(recs.length).toBe(fixtures.length);
    for (const g of fixtures) {
      const rec = recs.find((x) => x.input === imagePath(g))!;
      expect(Math.abs(rec.score - g.score)).toBeLessThanOrEqual(TOL);
      for (const n of DEFECTS) expect(Math.abs(rec.extras[n] - g.defects[n])).toBeLessThanOrEqual(TOL);
    }
    expect(resolveMetric('koniqplusplus').card.commercialUse).toBe(false);
  }, 120_000);
});
