// WaDIQaM-NR / WaDIQaM-FR from checkpoints in pyiqa's state-dict format (its
// WaDIQaM-NR-koniq / WaDIQaM-kadid layouts), exported by tools/export/export_wadiqam{,_fr}.py
// --weights pyiqa and scored with pyiqa's procedure through generic manifest mechanisms ([0, 1]
// input, grid 'range-exclusive', epsilon 1e-8, pyiqa's FR feature order). Goldens: pyiqa's own
// WaDIQaM module on the same seeded checkpoint (scripts/golden/wadiqam_pyiqa_golden.py ->
// test/golden/wadiqam_pyiqa.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, cliImport, HAS_SHARED, manifestVariant, pythonWith, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity, type PatchScored } from './helpers';

const IMAGES = join(ROOT, 'test/fixtures/patch-images');
const PAIRS = join(ROOT, 'test/fixtures/fr-pairs');
const TOL = 1e-4;
interface VariantGolden {
  kind: 'NR' | 'FR';
  fixtures: Record<string, PatchScored>;
  calibration: Record<string, PatchScored> | null;
  biq2021?: Record<string, PatchScored> | null; // NR only (BIQ2021 has no reference images)
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/wadiqam_pyiqa.json'), 'utf8')) as Record<string, VariantGolden>;
const REFERENCE: Record<string, string> = { 'smooth-97x75-noise.png': 'smooth-97x75.png', 'exact-96x64-blur.png': 'exact-96x64.png' };
const manifestPath = (fixture: string) => join(ROOT, 'test/fixtures', fixture, 'manifest.json');
const tmp = mkdtempSync(join(tmpdir(), 'iqa-wadiqam-pyiqa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Patch scores of one golden entry through `model`: NR on the image, FR on (reference, image). */
const crops = (model: Model, kind: 'NR' | 'FR', name: string) =>
  kind === 'NR' ? model.scoreCrops(join(IMAGES, name)) : model.scorePairCrops(join(IMAGES, REFERENCE[name]), join(PAIRS, name));
const image = (model: Model, kind: 'NR' | 'FR', name: string) =>
  kind === 'NR' ? model.score(join(IMAGES, name)) : model.scorePair(join(IMAGES, REFERENCE[name]), join(PAIRS, name));

for (const fixture of ['wadiqam-nr-pyiqa-checkpoint', 'wadiqam-fr-pyiqa-checkpoint']) {
  const g = golden[fixture];
  describe(`${fixture} (seeded pyiqa-format checkpoint, pyiqa's procedure)`, () => {
    let model: Model;
    beforeAll(async () => {
      model = await Model.load(manifestPath(fixture));
    });
    afterAll(async () => model?.close());

    it("matches pyiqa's WaDIQaM per patch (its range(0, L - 32, 32) loop) and per image", async () => {
      for (const [name, want] of Object.entries(g.fixtures)) {
        const c = await crops(model, g.kind, name);
        expect(c.length).toBe(want.patches);
        c.forEach((v, i) => expect(Math.abs(v - want.patchScores![i])).toBeLessThanOrEqual(TOL));
        expect(Math.abs((await image(model, g.kind, name)) - want.score)).toBeLessThanOrEqual(TOL);
      }
      // 96x64: range(0, 64, 32) x range(0, 32, 32) = 2 patches where floor(L / 32) gives 6.
      expect(g.fixtures[g.kind === 'NR' ? 'exact-96x64.png' : 'exact-96x64-blur.png'].patches).toBe(2);
    });

    it.skipIf(!HAS_SHARED)(`matches pyiqa on the five calibration ${g.kind === 'NR' ? 'images' : 'pairs'}, 1e-4`, async () => {
      const names = CALIBRATION_IMAGES.map((n) => `${n}.bmp`);
      const scores =
        g.kind === 'NR'
          ? await Promise.all(names.map((n) => model.score(sharedPath('data/calibration/dist_dir', n))))
          : (await model.scorePairsSettled(names.map((n) => [sharedPath('data/calibration/ref_dir', n), sharedPath('data/calibration/dist_dir', n)] as const))).scores;
      const worst = Math.max(...names.map((n, i) => Math.abs(scores[i] - g.calibration![n].score)));
      console.log(`${fixture}: worst |ours - pyiqa| on the calibration ${g.kind} set ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(TOL);
    });

    it("each part of pyiqa's procedure matters: the authors' floor grid or raw 0..255 input moves the score", async () => {
      const name = Object.keys(g.fixtures)[1];
      const want = g.fixtures[name].score;
      const edits: Record<string, (m: import('../dist/cjs/index.js').ModelManifest) => void> = {
        floor: (m) => (m.preprocess!.crop!.grid = 'floor'),
        byte: (m) => (m.input.normalize!.scale = 'byte'),
      };
      for (const [label, edit] of Object.entries(edits)) {
        const v = await Model.load(manifestVariant(manifestPath(fixture), tmp, `${fixture}-${label}`, edit));
        try {
          expect(Math.abs((await image(v, g.kind, name)) - want)).toBeGreaterThan(10 * TOL);
        } finally {
          await v.close();
        }
      }
    });
  });
}

// The whole NR pipeline on the shared images: the five calibration images and the first 20 BIQ2021
// images (512 x 512 JPEGs, 225 patches each) against pyiqa's module on the same seeded checkpoint.
describe('wadiqam-nr-pyiqa-checkpoint on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches pyiqa's WaDIQaM to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    const g = golden['wadiqam-nr-pyiqa-checkpoint'];
    const calibration = Object.fromEntries(Object.entries(g.calibration!).map(([n, v]) => [n.replace(/\.bmp$/, ''), v]));
    await expectSharedParity('wadiqam-pyiqa', () => Model.load(manifestPath('wadiqam-nr-pyiqa-checkpoint'), { maxBatch: 256 }), calibration, g.biq2021!, TOL);
  });
});

describe('pyiqa WaDIQaM cards', () => {
  it('are registry metrics of their kind, non-commercial, importing with --weights pyiqa', () => {
    for (const [name, kind] of [['wadiqam-nr-pyiqa', 'nr'], ['wadiqam-fr-pyiqa', 'fr']] as const) {
      const entry = resolveMetric(name);
      expect(entry.kind).toBe(kind);
      expect(entry.card.commercialUse).toBe(false);
      expect(entry.card.licence).toMatch(/pyiqa.*non-commercial/);
      expect(entry.card.import?.args).toContain('pyiqa');
    }
  });
});

// Full-width pyiqa checkpoints (seeded; pyiqa's real ones are not reachable here) through
// `iqa models import` and `iqa score` / `iqa compare`, against pyiqa's module on the same file.
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'pyiqa.archs.wadiqam_arch']);
const SKIP = !HAS_SHARED ? SHARED_SKIP_REASON : !PYTHON ? "no Python with torch, onnx, onnxruntime and pyiqa (pip install --no-deps pyiqa; pip install pyyaml huggingface_hub): skipping the full-size pyiqa WaDIQaM checks" : '';
if (SKIP) console.warn(SKIP);
const GOLDEN_SCRIPT = join(ROOT, 'scripts/golden/wadiqam_pyiqa_golden.py');
const CLI = join(ROOT, 'dist/cjs/cli/index.js');

describe.skipIf(!!SKIP)('full-size pyiqa WaDIQaM checkpoints (iqa models import + iqa score / compare)', () => {
  // FR only (the NR net is the same layer mapping; its full-size run took 22 s here, measured 3.8e-7).
  for (const [card, kind, seed] of [['wadiqam-fr-pyiqa', 'FR', 4]] as const) {
    it(`${card}: I03 scores as pyiqa's module on the same checkpoint, 1e-4`, () => {
      const ckpt = join(tmp, `${card}.pth`);
      const dist = sharedPath('data/calibration/dist_dir', 'I03.bmp');
      const ref = sharedPath('data/calibration/ref_dir', 'I03.bmp');
      const py = spawnSync(PYTHON!, [GOLDEN_SCRIPT, '--full-size', kind, '--seed', String(seed), '--checkpoint-out', ckpt, dist, ...(kind === 'FR' ? [ref] : [])], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      const reference = (JSON.parse(py.stdout.trim().split('\n').pop()!) as { score: number }).score;
      const imp = cliImport(PYTHON!, card, ckpt, join(tmp, 'models'));
      expect(imp.status, imp.stderr).toBe(0);
      const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
      const args = kind === 'NR' ? ['score', '--metric', card, '--format', 'jsonl', dist] : ['compare', '--metric', card, '--format', 'json', ref, dist];
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const ours = (JSON.parse(r.stdout.trim().split('\n')[0]) as { score: number }).score;
      console.log(`${card} full size, I03: ours ${ours}, pyiqa ${reference}, |delta| ${Math.abs(ours - reference)}`);
      expect(Math.abs(ours - reference)).toBeLessThanOrEqual(TOL);
    }, 180_000);
  }

  it('refuses an FR state dict for the NR card, a file that is not a torch checkpoint, and the authors-order fusion, naming the problem', () => {
    const fr = join(tmp, 'wadiqam-fr-pyiqa.pth');  // written by the test above
    expect(existsSync(fr)).toBe(true);
    const junk = join(tmp, 'junk.pth');
    writeFileSync(junk, 'not a torch file');
    for (const [card, file, msg] of [
      ['wadiqam-nr-pyiqa', fr, /is not a pyiqa WaDIQaM NR state dict.*size mismatch for fc1/s],
      ['wadiqam-fr-pyiqa', junk, /cannot read .* as a torch checkpoint/],
    ] as const) {
      const r = cliImport(PYTHON!, card, file, join(tmp, 'models-bad'));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(join(tmp, 'models-bad', card, 'manifest.json'))).toBe(false);
    }
    const order = spawnSync(PYTHON!, [join(ROOT, 'tools/export/export_wadiqam_fr.py'), '--weights', 'pyiqa', '--fusion', 'authors', '--checkpoint', fr, '--out-dir', join(tmp, 'x')], { encoding: 'utf8' });
    expect(order.status).not.toBe(0);
    expect(order.stderr).toMatch(/trained with its feature order/);
  }, 60_000);
});
