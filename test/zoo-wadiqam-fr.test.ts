// DIQaM-FR / WaDIQaM-FR (Bosse et al. 2018) through the generic full-reference manifest input
// (task 'fr-iqa': one stacked [N, 6, 32, 32] patch pair per grid cell, reference channels first),
// the floor grid on both images and the weighted / mean pooling. Goldens: the PIL + numpy +
// PyTorch reference of the authors' evaluate.py with a reference image
// (scripts/golden/wadiqam_fr_golden.py -> test/golden/wadiqam_fr.json).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, cliImport, HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, writeChainerHdf5, type PatchScored } from './helpers';

const IMAGES = join(ROOT, 'test/fixtures/patch-images');
const PAIRS = join(ROOT, 'test/fixtures/fr-pairs');
const TOL = 1e-4;
interface VariantGolden {
  top: string;
  fusion: string;
  fixtures: Record<string, PatchScored>;
  calibration: Record<string, PatchScored> | null;
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/wadiqam_fr.json'), 'utf8')) as Record<string, VariantGolden>;
const FIXTURES = ['wadiqam-fr-seeded', 'diqam-fr-seeded', 'wadiqam-fr-pyiqa-seeded'] as const;
// Each distorted fixture and its reference.
const REFERENCE: Record<string, string> = { 'smooth-97x75-noise.png': 'smooth-97x75.png', 'exact-96x64-blur.png': 'exact-96x64.png' };
const manifestPath = (fixture: string) => join(ROOT, 'test/fixtures', fixture, 'manifest.json');
const tmp = mkdtempSync(join(tmpdir(), 'iqa-wadiqam-fr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

for (const fixture of FIXTURES) {
  const g = golden[fixture];
  describe(`${fixture} (seeded, ${g.top} pooling, ${g.fusion} feature order)`, () => {
    let model: Model;
    beforeAll(async () => {
      model = await Model.load(manifestPath(fixture));
    });
    afterAll(async () => model?.close());

    it('matches the reference per patch pair (same floor grid on both images) and per image pair', async () => {
      for (const [name, want] of Object.entries(g.fixtures)) {
        const ref = join(IMAGES, REFERENCE[name]);
        const dist = join(PAIRS, name);
        const crops = await model.scorePairCrops(ref, dist);
        expect(crops.length).toBe(want.patches);
        crops.forEach((c, i) => expect(Math.abs(c - want.patchScores![i])).toBeLessThanOrEqual(TOL));
        expect(Math.abs((await model.scorePair(ref, dist)) - want.score)).toBeLessThanOrEqual(TOL);
      }
    });

    it.skipIf(!HAS_SHARED)('matches the reference on the five calibration pairs (ref_dir, dist_dir), 1e-4', async () => {
      const names = CALIBRATION_IMAGES.map((n) => `${n}.bmp`);
      const r = await model.scorePairsSettled(names.map((n) => [sharedPath('data/calibration/ref_dir', n), sharedPath('data/calibration/dist_dir', n)] as const));
      expect(r.errors.every((e) => e === null)).toBe(true);
      const worst = Math.max(...names.map((n, i) => Math.abs(r.scores[i] - g.calibration![n].score)));
      expect(worst).toBeLessThanOrEqual(TOL);
    });
  });
}

describe('full-reference patch pairs', () => {
  let fr: Model;
  beforeAll(async () => {
    fr = await Model.load(manifestPath('wadiqam-fr-seeded'));
  });
  afterAll(async () => fr?.close());

  it("feeds the reference as the first three channels: swapping the images changes the score", async () => {
    const ref = join(IMAGES, 'smooth-97x75.png');
    const dist = join(PAIRS, 'smooth-97x75-noise.png');
    const swapped = await fr.scorePair(dist, ref);
    expect(Math.abs(swapped - golden['wadiqam-fr-seeded'].fixtures['smooth-97x75-noise.png'].score)).toBeGreaterThan(100 * TOL);
  });

  it("the feature order matters: pyiqa's order on the same weights gives another score", () => {
    const a = golden['wadiqam-fr-seeded'].fixtures['smooth-97x75-noise.png'].score;
    const b = golden['wadiqam-fr-pyiqa-seeded'].fixtures['smooth-97x75-noise.png'].score;
    expect(Math.abs(a - b)).toBeGreaterThan(100 * TOL);
  });

  it('weighted pooling is sum(q w) / sum(w) of the reference weights, not the mean', () => {
    const g = golden['wadiqam-fr-seeded'].fixtures['exact-96x64-blur.png'];
    const q = g.patchScores!;
    const w = g.patchWeights!;
    const weighted = q.reduce((a, v, i) => a + v * w[i], 0) / w.reduce((a, v) => a + v, 0);
    expect(Math.abs(weighted - g.score)).toBeLessThanOrEqual(1e-9 + 1e-6 * Math.abs(g.score));
    expect(Math.abs(weighted - q.reduce((a, v) => a + v, 0) / q.length)).toBeGreaterThan(100 * TOL);
  });

  it('rejects images of different sizes with ERR_INPUT naming both sizes', async () => {
    const e = await rejection(fr.scorePair(join(IMAGES, 'smooth-97x75.png'), join(PAIRS, 'exact-96x64-blur.png')));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/97x75.*96x64.*differ in size/);
    const settled = await fr.scorePairsSettled([
      [join(IMAGES, 'smooth-97x75.png'), join(PAIRS, 'exact-96x64-blur.png')],
      [join(IMAGES, 'exact-96x64.png'), join(PAIRS, 'exact-96x64-blur.png')],
    ]);
    expect(settled.errors[0]?.code).toBe('ERR_INPUT');
    expect(settled.errors[1]).toBeNull();
    expect(Math.abs(settled.scores[1] - golden['wadiqam-fr-seeded'].fixtures['exact-96x64-blur.png'].score)).toBeLessThanOrEqual(TOL);
  });

  it('rejects a missing reference, an image smaller than a patch, and single images with ERR_INPUT', async () => {
    expect((await rejection(fr.scorePair(join(tmp, 'missing.png'), join(PAIRS, 'exact-96x64-blur.png')))).code).toBe('ERR_INPUT');
    const small = { data: new Uint8Array(31 * 64 * 3).fill(90), width: 64, height: 31, channels: 3 as const };
    expect((await rejection(fr.scorePair(small, small))).code).toBe('ERR_INPUT');
    const single = await rejection(fr.score(join(PAIRS, 'exact-96x64-blur.png')));
    expect(single.code).toBe('ERR_INPUT');
    expect(single.message).toMatch(/full-reference/);
    const nr = await Model.load(join(ROOT, 'test/fixtures/wadiqam-nr-seeded/manifest.json'));
    try {
      const e = await rejection(nr.scorePair(join(IMAGES, 'exact-96x64.png'), join(PAIRS, 'exact-96x64-blur.png')));
      expect(e.code).toBe('ERR_INPUT');
      expect(e.message).toMatch(/no-reference/);
    } finally {
      await nr.close();
    }
  });

  it('rejects a graph that does not take stacked pairs (and a pair graph declared no-reference) with ERR_MODEL', async () => {
    const nrGraph = manifestVariant(manifestPath('wadiqam-fr-seeded'), tmp, 'nr-graph', () => undefined, join(ROOT, 'test/fixtures/wadiqam-nr-seeded/wadiqam-nr-seeded.onnx'));
    const e = await rejection(Model.load(nrGraph));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/shape \[\?, 3, 32, 32\].*\[\?, 6, 32, 32\]/);
    const asNr = manifestVariant(manifestPath('wadiqam-fr-seeded'), tmp, 'as-nr', (m) => (m.task = 'nr-iqa'));
    expect((await rejection(Model.load(asNr))).code).toBe('ERR_MODEL');
    const m = JSON.parse(readFileSync(manifestPath('wadiqam-fr-seeded'), 'utf8')) as ModelManifest;
    m.input.dtype = 'uint8';
    m.input.layout = 'NHWC';
    delete m.input.normalize;
    expect(() => validateManifest(m)).toThrow(/full-reference models take float32 NCHW/);
  });

  it('wadiqam-fr and diqam-fr are full-reference registry metrics', () => {
    for (const name of ['wadiqam-fr', 'diqam-fr']) {
      const entry = resolveMetric(name);
      expect(entry.kind).toBe('fr');
      expect(entry.card.licence).toMatch(/MIT/);
    }
  });
});

describe('wadiqam-fr through the example server (POST /compare)', () => {
  it('scores a multipart ref + dist pair as the library, and answers ERR_INPUT for different sizes', async () => {
    // The seeded fixture installed under the card's name in a model directory.
    const dir = join(tmp, 'server-models', 'wadiqam-fr');
    mkdirSync(dir, { recursive: true });
    for (const f of ['manifest.json', 'wadiqam-fr-seeded.onnx']) copyFileSync(join(ROOT, 'test/fixtures/wadiqam-fr-seeded', f), join(dir, f));
    const child = spawn(process.execPath, [join(ROOT, 'examples/server/server.mjs'), '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, IQA_LOG: '0', IQA_MODEL_DIR: join(tmp, 'server-models') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
        createInterface({ input: child.stdout! }).on('line', (l) => {
          try {
            const j = JSON.parse(l) as { listening?: string };
            if (j.listening) resolve(j.listening);
          } catch {
            /* not our line */
          }
        });
      });
      const post = async (ref: string, dist: string) => {
        const f = new FormData();
        f.append('ref', new Blob([readFileSync(ref)]), 'ref.png');
        f.append('dist', new Blob([readFileSync(dist)]), 'dist.png');
        const r = await fetch(`${base}/compare?metric=wadiqam-fr`, { method: 'POST', body: f });
        return { status: r.status, body: (await r.json()) as { score?: number; error?: { code: string } } };
      };
      const ok = await post(join(IMAGES, 'exact-96x64.png'), join(PAIRS, 'exact-96x64-blur.png'));
      expect(ok.status).toBe(200);
      expect(Math.abs(ok.body.score! - golden['wadiqam-fr-seeded'].fixtures['exact-96x64-blur.png'].score)).toBeLessThanOrEqual(TOL);
      const sizes = await post(join(IMAGES, 'smooth-97x75.png'), join(PAIRS, 'exact-96x64-blur.png'));
      expect(sizes.status).toBe(400);
      expect(sizes.body.error?.code).toBe('ERR_INPUT');
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  }, 60_000);
});

// Full-size WaDIQaM-FR from a checkpoint in the authors' Chainer HDF5 layout (seeded weights; no
// authors' checkpoint is reachable here) through `iqa models import` and `iqa compare`, against
// the reference reading the same file.
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'h5py']);
const IMPORT_SKIP = !HAS_SHARED ? SHARED_SKIP_REASON : !PYTHON ? 'no Python with torch, onnx, onnxruntime and h5py (set IQA_PYTHON): skipping the WaDIQaM-FR import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('wadiqam-fr from a Chainer HDF5 checkpoint (iqa models import + iqa compare)', () => {
  it('scores a calibration pair as the reference on the same checkpoint, 1e-4', () => {
    const h5 = join(tmp, 'wadiqam-fr-chainer.h5');
    const gen = writeChainerHdf5(PYTHON!, 'seeded_fr_model(4, True)', h5);
    expect(gen.status, gen.stderr).toBe(0);
    const imp = cliImport(PYTHON!, 'wadiqam-fr', h5, join(tmp, 'models'));
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'wadiqam-fr', 'manifest.json'))).toBe(true);
    const ref = sharedPath('data/calibration/ref_dir', 'I03.bmp');
    const dist = sharedPath('data/calibration/dist_dir', 'I03.bmp');
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cjs/cli/index.js'), 'compare', '--metric', 'wadiqam-fr', '--format', 'json', ref, dist], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const ours = (JSON.parse(r.stdout.trim()) as { score: number }).score;
    const refOut = join(tmp, 'wadiqam-fr-ref.json');
    const py = spawnSync(PYTHON!, [join(ROOT, 'scripts/golden/wadiqam_fr_reference.py'), '--checkpoint', h5, '--out', refOut, `${ref}:${dist}`], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const reference = JSON.parse(readFileSync(refOut, 'utf8')) as Record<string, PatchScored>;
    console.log(`wadiqam-fr full size, I03: ours ${ours}, reference ${reference['I03.bmp'].score}, |delta| ${Math.abs(ours - reference['I03.bmp'].score)}`);
    expect(Math.abs(ours - reference['I03.bmp'].score)).toBeLessThanOrEqual(TOL);
  }, 180_000);

  it('refuses an NR checkpoint and a file that is not HDF5, naming the problem', () => {
    const nr = join(tmp, 'nr-chainer.h5');
    expect(writeChainerHdf5(PYTHON!, 'seeded_model(1, True, 16)', nr).status).toBe(0);
    const junk = join(tmp, 'junk.model');
    writeFileSync(junk, 'not an HDF5 file');
    for (const [file, msg] of [[nr, /is not a deepIQA FR model.*size mismatch for fc1/s], [junk, /cannot read .* as a Chainer HDF5 file/]] as const) {
      const r = cliImport(PYTHON!, 'wadiqam-fr', file, join(tmp, 'models-bad'));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(join(tmp, 'models-bad', 'wadiqam-fr', 'manifest.json'))).toBe(false);
    }
  }, 60_000);
});
