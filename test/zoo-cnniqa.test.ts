// CNNIQA (Kang et al. 2014) through the generic manifest mechanisms it needs: Pillow grey
// (preprocess.gray 'pil'), the non-overlapping 32x32 patch grid with lidq92's range(0, L-32, 32)
// rule, per-patch 3x3 local contrast normalisation and mean pooling. Goldens: the independent
// PIL + scipy + PyTorch reference (scripts/golden/cnniqa_golden.py -> test/golden/cnniqa.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, preprocess, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const FIX = join(ROOT, 'test/fixtures/cnniqa-seeded');
const MANIFEST = join(FIX, 'manifest.json');
const IMAGES = join(ROOT, 'test/fixtures/patch-images');
const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const TOL = 1e-4;

interface Scored {
  score: number;
  patches: number;
  patchScores?: number[];
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/cnniqa.json'), 'utf8')) as {
  pilGray: { image: string; width: number; height: number; base64: string };
  seeded: { fixtures: Record<string, Scored>; calibration: Record<string, Scored> | null; biq2021: Record<string, Scored> | null };
  live: Record<string, Scored> | null;
};
const tmp = mkdtempSync(join(tmpdir(), 'iqa-cnniqa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const variant = (name: string, edit: (m: ModelManifest) => void) => manifestVariant(MANIFEST, tmp, name, edit);

describe('Pillow grey conversion (preprocess gray: pil)', () => {
  it("equals Pillow's convert('L') on every pixel of a random-colour image", async () => {
    const g = golden.pilGray;
    const out = await preprocess(join(IMAGES, g.image), { gray: 'pil' });
    expect([out.width, out.height, out.channels]).toEqual([g.width, g.height, 1]);
    const want = Buffer.from(g.base64, 'base64');
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (out.data[i] !== want[i]) diff++;
    expect(diff).toBe(0);
    // The check can fail: OpenCV's BGR2GRAY rounds differently on some of these colours.
    const cv = await preprocess(join(IMAGES, g.image), { gray: 'opencv' });
    let cvDiff = 0;
    for (let i = 0; i < want.length; i++) if (cv.data[i] !== want[i]) cvDiff++;
    expect(cvDiff).toBeGreaterThan(0);
  });
});

describe('CNNIQA pipeline, seeded weights (committed fixture)', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(MANIFEST);
  });
  afterAll(async () => model?.close());

  it('matches the PyTorch reference per patch and per image on the fixture images', async () => {
    for (const [name, g] of Object.entries(golden.seeded.fixtures)) {
      const crops = await model.scoreCrops(join(IMAGES, name));
      expect(crops.length).toBe(g.patches);
      crops.forEach((c, i) => expect(Math.abs(c - g.patchScores![i])).toBeLessThanOrEqual(TOL));
      expect(Math.abs((await model.score(join(IMAGES, name))) - g.score)).toBeLessThanOrEqual(TOL);
    }
  });

  it("drops the last patch row and column when 32 divides the side (range(0, L - 32, 32)), keeps it under 'floor'", async () => {
    expect(golden.seeded.fixtures['exact-96x64.png'].patches).toBe(2); // 1 row x 2 columns
    expect(golden.seeded.fixtures['smooth-97x75.png'].patches).toBe(6); // 2 x 3
    const floor = await Model.load(variant('floor', (m) => (m.preprocess.crop.grid = 'floor')));
    try {
      expect((await floor.scoreCrops(join(IMAGES, 'exact-96x64.png'))).length).toBe(6);
      expect((await floor.scoreCrops(join(IMAGES, 'smooth-97x75.png'))).length).toBe(6);
    } finally {
      await floor.close();
    }
  });

  it('local contrast normalisation and the grey conversion change the score (the parity above depends on them)', async () => {
    const img = join(IMAGES, 'smooth-97x75.png');
    const want = golden.seeded.fixtures['smooth-97x75.png'].score;
    for (const [name, edit] of [
      ['no-lcn', (m: ModelManifest) => delete m.preprocess.localContrast],
      ['lcn-c-0.5', (m: ModelManifest) => (m.preprocess.localContrast = { window: 3, constant: 0.5 })],
    ] as const) {
      const v = await Model.load(variant(name, edit));
      try {
        expect(Math.abs((await v.score(img)) - want)).toBeGreaterThan(100 * TOL);
      } finally {
        await v.close();
      }
    }
  });

  it('scores a batch of images in one call (patches of several images share ORT runs)', async () => {
    const names = Object.keys(golden.seeded.fixtures);
    const scores = await model.scoreMany(names.map((n) => join(IMAGES, n)));
    scores.forEach((s, i) => expect(Math.abs(s - golden.seeded.fixtures[names[i]].score)).toBeLessThanOrEqual(TOL));
  });

  it('rejects images without a patch with ERR_INPUT', async () => {
    const tiny = { data: new Uint8Array(20 * 40 * 3).fill(100), width: 40, height: 20, channels: 3 as const };
    expect((await rejection(model.score(tiny))).code).toBe('ERR_INPUT');
    // 32x32 has one whole patch but range(0, 0, 32) is empty: the authors' loops give none.
    const e = await rejection(model.score({ data: new Uint8Array(32 * 32 * 3).fill(100), width: 32, height: 32, channels: 3 }));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/33x33/);
  });

  it('rejects a graph whose input is not the declared 1 x 32 x 32 patch with ERR_MODEL naming the shapes', async () => {
    const rgbGraph = join(ROOT, 'test/fixtures/wadiqam-nr-seeded/wadiqam-nr-seeded.onnx'); // N x 3 x 32 x 32
    const e = await rejection(Model.load(manifestVariant(MANIFEST, tmp, 'rgb-graph', () => undefined, rgbGraph)));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/shape \[\?, 3, 32, 32\] but the manifest declares \[\?, 1, 32, 32\]/);
  });

  it('rejects manifests whose patch options do not fit with ERR_MODEL', () => {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;
    const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
      const x = structuredClone(m);
      edit(x);
      expect(() => validateManifest(x)).toThrow(msg);
    };
    bad((x) => (x.preprocess.localContrast = { window: 4, constant: 1 }), /window: must be odd/);
    bad((x) => (x.preprocess.crop = { policy: 'center', grid: 'floor' }), /only the 'grid' policy/);
    bad((x) => ((x.preprocess as { gray: string }).gray = 'ycbcr'), /gray/);
    bad((x) => ((x.preprocess.crop as { grid: string }).grid = 'ceil'), /grid/);
  });
});

describe('CNNIQA seeded weights on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches the PyTorch reference to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('cnniqa', () => Model.load(MANIFEST, { maxBatch: 256 }), golden.seeded.calibration!, golden.seeded.biq2021!, TOL);
  });
});

// The authors' weights: `iqa models import cnniqa` runs the export (Python + torch) into a temp
// model directory, then `iqa score --metric cnniqa` is compared with the reference.
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime']);
const CHECKPOINT = sharedPath('models/cnniqa/CNNIQA-LIVE');
const LIVE_SKIP = !HAS_SHARED || !existsSync(CHECKPOINT) ? SHARED_SKIP_REASON : !PYTHON ? 'no Python with torch, onnx and onnxruntime (set IQA_PYTHON): skipping the real-weight CNNIQA check' : '';
if (LIVE_SKIP) console.warn(LIVE_SKIP);

describe.skipIf(!!LIVE_SKIP)('CNNIQA with the authors\' LIVE weights (iqa models import + iqa score)', () => {
  it('imports the checkpoint and scores the calibration images as the reference, 1e-4', () => {
    const dir = join(tmp, 'models');
    const env = { ...process.env, IQA_MODEL_DIR: dir };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'cnniqa', '--checkpoint', CHECKPOINT, '--python', PYTHON!], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(dir, 'cnniqa', 'manifest.json'))).toBe(true);
    const paths = CALIBRATION_IMAGES.map((n) => sharedPath('data/calibration/dist_dir', `${n}.bmp`));
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'cnniqa', '--no-progress', ...paths], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    expect(rows.length).toBe(5);
    for (const row of rows) {
      const name = CALIBRATION_IMAGES.find((n) => row.input.endsWith(`${n}.bmp`))!;
      expect(Math.abs(row.score - golden.live![name].score)).toBeLessThanOrEqual(TOL);
    }
  }, 120_000);
});

describe('iqa models import cnniqa without torch', () => {
  it('fails with ERR_MODEL and the pip install line', () => {
    const ck = join(tmp, 'fake-checkpoint');
    writeFileSync(ck, 'x');
    const r = spawnSync(process.execPath, [CLI, 'models', 'import', 'cnniqa', '--checkpoint', ck, '--python', '/nonexistent/python3'], {
      encoding: 'utf8',
      env: { ...process.env, IQA_MODEL_DIR: join(tmp, 'none') },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/pip install torch onnx onnxruntime/);
  });
});
