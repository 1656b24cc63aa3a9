// The registry: every metric has a card, the README table is generated from it, options are
// validated against it, and deep models resolve by name in the model directories.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IqaError, Model, listMetrics, metricRegistry, registryCards, resolveMetric } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');
const golden = JSON.parse(readFileSync(join(FIX, 'golden.json'), 'utf8')) as { images: { file: string; score: number }[] };
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** A model directory holding the HyperIQA test fixture under `name`. */
function modelDir(name: string, layout: 'folder' | 'flat' = 'folder'): string {
  const dir = mkdtempSync(join(tmpdir(), 'iqa-models-'));
  const into = layout === 'folder' ? join(dir, name) : dir;
  mkdirSync(into, { recursive: true });
  const m = JSON.parse(readFileSync(join(FIX, 'model.json'), 'utf8'));
  m.name = name;
  delete m.$schema;
  writeFileSync(join(into, layout === 'folder' ? 'manifest.json' : `${name}.json`), JSON.stringify(m));
  copyFileSync(join(FIX, 'model.onnx'), join(into, 'model.onnx'));
  return dir;
}

describe('cards', () => {
  it('every registered metric has a complete card under its own name', () => {
    for (const [name, entry] of Object.entries(metricRegistry)) {
      const c = entry.card;
      expect(c.name).toBe(name);
      expect(entry.kind).toBe(c.kind);
      expect(['higher', 'lower']).toContain(c.direction);
      expect(c.reference.paper.length).toBeGreaterThan(5);
      expect(c.reference.checkedAgainst.length).toBeGreaterThan(5);
      expect(c.licence.length).toBeGreaterThan(2);
      expect(typeof c.commercialUse).toBe('boolean');
      for (const spec of Object.values(c.options)) expect(spec.description.length).toBeGreaterThan(3);
    }
    expect(listMetrics().map((m) => m.name)).toEqual(registryCards().map((c) => c.name));
    expect(listMetrics().find((m) => m.name === 'gmsd')).toMatchObject({ fullReference: true, higherIsBetter: false });
  });

  it("README.md's metric table is the one the registry generates", async () => {
    const { metricsTable, BEGIN, END } = await import('../scripts/readme-metrics.mjs');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
    expect(section, 'run: node scripts/readme-metrics.mjs --write').toBe(metricsTable(registryCards()));
    for (const c of registryCards()) expect(section).toContain(`| \`${c.name}\` |`);
  });

  it('a method that cannot be built is listed with the reason, and naming it says why', () => {
    const card = registryCards().find((c) => c.name === 'transla');
    expect(card?.available).toMatch(/no public code or weights/);
    expect(() => resolveMetric('transla')).toThrow(/cannot be used here: no public code or weights/);
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cjs/cli/index.js'), 'models'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/transla .* unavailable /);
  });

  it('options are validated against the card', () => {
    const ms = metricRegistry['ms-ssim'];
    expect(ms.options({ option: ['method=wtd_sum'] })).toEqual({ method: 'wtd_sum' });
    expect(metricRegistry.ssim.options({ option: ['downsample=true'] })).toEqual({ downsample: true });
    expect(metricRegistry.hyperiqa.options({ option: ['maxBatch=4', 'device=cpu'] })).toEqual({ maxBatch: 4, device: 'cpu' });
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(IqaError);
        return (e as IqaError).message;
      }
      throw new Error('no error');
    };
    expect(bad(() => ms.options({ option: ['method=bogus'] }))).toMatch(/one of product, wtd_sum/);
    expect(bad(() => ms.options({ option: ['nope=1'] }))).toMatch(/no option 'nope' \(valid: channels, method\)/);
    expect(bad(() => ms.options({ variant: 'x' }))).toMatch(/no option 'variant'/);
    expect(bad(() => metricRegistry.hyperiqa.options({ option: ['maxBatch=0'] }))).toMatch(/below 1/);
    expect(bad(() => metricRegistry.ssim.options({ option: ['downsample=maybe'] }))).toMatch(/not a boolean/);
    expect(bad(() => ms.options({ option: ['method'] }))).toMatch(/key=value/);
  });
});

describe('CLI', () => {
  it('iqa models lists every card and whether its files are present', () => {
    const r = run(['models', '--json'], { IQA_MODEL_DIR: mkdtempSync(join(tmpdir(), 'iqa-empty-')) });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { models: { name: string; status: { present: boolean; detail: string } }[] };
    expect(j.models.map((m) => m.name)).toEqual(registryCards().map((c) => c.name));
    const hq = j.models.find((m) => m.name === 'hyperiqa');
    expect(hq?.status).toEqual({ present: false, detail: 'missing: iqa models import hyperiqa --checkpoint FILE' });
    expect(j.models.find((m) => m.name === 'ssim')?.status.present).toBe(true);
    const text = run(['models', 'show', 'ms-ssim']);
    expect(text.stdout).toMatch(/--option method=product\|wtd_sum \(default product\)/);
  });

  it('a bad --option is a usage error (exit 2) naming the valid ones', () => {
    const r = run(['compare', '--metric', 'ms-ssim', '--option', 'method=bogus', 'a.png', 'b.png']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUT: option method of ms-ssim: 'bogus' is not allowed \(one of product, wtd_sum\)/);
    const s = run(['score', '--metric', 'sharpness', '--option', 'x=1', 'a.png']);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/sharpness has no option 'x' \(it takes no options\)/);
  });

  it.skipIf(!HAS_SHARED)(`--option method=wtd_sum reproduces the official MS-SSIM row ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
    const lines = readFileSync(sharedPath('data/calibration/results_official.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const row = lines.find((l) => l.startsWith('ms_ssim,'))!.split(',');
    for (const k of CALIBRATION_IMAGES) {
      const r = run(['compare', '--metric', 'ms-ssim', '--option', 'method=wtd_sum', sharedPath('data/calibration/ref_dir', `${k}.bmp`), sharedPath('data/calibration/dist_dir', `${k}.bmp`)]);
      expect(r.status).toBe(0);
      const official = Number(row[header.indexOf(`${k}.bmp`)]);
      // The row is printed to 4 decimals: ours must round to the same value.
      expect(Math.abs(JSON.parse(r.stdout).score - official)).toBeLessThan(5e-5);
    }
  });
});

describe('deep models by name', () => {
  const saved = process.env.IQA_MODEL_DIR;
  afterAll(() => {
    if (saved === undefined) delete process.env.IQA_MODEL_DIR;
    else process.env.IQA_MODEL_DIR = saved;
  });

  it('iqa score --metric NAME finds NAME/manifest.json in IQA_MODEL_DIR', () => {
    const dir = modelDir('hyperiqa-tiny');
    const r = run(['score', '--metric', 'hyperiqa-tiny', join(FIX, 'img0.png'), join(FIX, 'img1.png')], { IQA_MODEL_DIR: dir });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(Math.abs(lines[0].score - golden.images[0].score)).toBeLessThan(1e-4);
    expect(Math.abs(lines[1].score - golden.images[1].score)).toBeLessThan(1e-4);
  });

  it('iqa models also lists manifests in the model directories that have no card', () => {
    const dir = modelDir('hyperiqa-tiny');
    writeFileSync(join(dir, 'notes.json'), '{"not": "a manifest"}');
    const r = run(['models', '--json'], { IQA_MODEL_DIR: dir });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { uncarded: { name: string; path: string; task: string }[] };
    expect(out.uncarded).toEqual([{ name: 'hyperiqa-tiny', path: join(dir, 'hyperiqa-tiny', 'manifest.json'), task: 'nr-iqa', description: expect.any(String) }]);
    expect(run(['models'], { IQA_MODEL_DIR: dir }).stdout).toMatch(/manifests without a card[^\n]*\n\s+hyperiqa-tiny\s+nr-iqa/);
  });

  it('Model.load(NAME) and resolveMetric find NAME.json (flat layout) in a later directory of the list', async () => {
    process.env.IQA_MODEL_DIR = [mkdtempSync(join(tmpdir(), 'iqa-empty-')), modelDir('tiny-flat', 'flat')].join(':');
    const m = await Model.load('tiny-flat');
    try {
      expect(Math.abs((await m.score(join(FIX, 'img2.png'))) - golden.images[2].score)).toBeLessThan(1e-4);
    } finally {
      await m.close();
    }
    const entry = resolveMetric('tiny-flat');
    expect(entry.kind).toBe('nr');
    expect(entry.card.title).toMatch(/HyperIQA/);
    expect(Math.abs((await entry.fn(join(FIX, 'img2.png') as never)) - golden.images[2].score)).toBeLessThan(1e-4);
  });

  it('a registered deep model whose files are missing is ERR_MODEL with the import command', () => {
    const r = run(['score', '--metric', 'hyperiqa', join(FIX, 'img0.png')], { IQA_MODEL_DIR: mkdtempSync(join(tmpdir(), 'iqa-empty-')) });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_MODEL: model manifest not found: 'hyperiqa-koniq'[\s\S]*iqa models import hyperiqa --checkpoint FILE/);
  });

  it('iqa models import runs the export tool with the card\'s arguments and installs the model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-import-'));
    const ckpt = join(dir, 'koniq_pretrained.pkl');
    writeFileSync(ckpt, 'not really a checkpoint');
    // A stand-in interpreter: answers the module probe, then does what the export tool does
    // (writes the manifest and graph into --out-dir under --name) and logs its arguments.
    const py = join(dir, 'python');
    writeFileSync(
      py,
      `#!/bin/sh\n[ "$1" = "-c" ] && exit 0\necho "$@" > "${dir}/args"\nwhile [ $# -gt 0 ]; do case "$1" in --out-dir) out="$2";; --name) name="$2";; esac; shift; done\n` +
        `sed 's/"name": "hyperiqa-tiny"/"name": "'"$name"'"/' "${join(FIX, 'model.json')}" | grep -v '"\\$schema"' > "$out/$name.json"\ncp "${join(FIX, 'model.onnx')}" "$out/model.onnx"\n`,
    );
    chmodSync(py, 0o755);
    const models = join(dir, 'models');
    const r = run(['models', 'import', 'hyperiqa', '--checkpoint', ckpt, '--python', py], { IQA_MODEL_DIR: models });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe(`${join(ROOT, 'tools/export/export_hyperiqa.py')} --weights authors --checkpoint ${ckpt} --out-dir ${models} --name hyperiqa-koniq`);
    const s = run(['score', '--metric', 'hyperiqa', join(FIX, 'img0.png')], { IQA_MODEL_DIR: models });
    expect(s.status, s.stderr).toBe(0);
    expect(Math.abs(JSON.parse(s.stdout).score - golden.images[0].score)).toBeLessThan(1e-4);
  });

  it('iqa models import without torch says which pip line installs it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-import-'));
    writeFileSync(join(dir, 'c.pkl'), 'x');
    const py = join(dir, 'python');
    writeFileSync(py, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n');
    chmodSync(py, 0o755);
    const r = run(['models', 'import', 'hyperiqa', '--checkpoint', join(dir, 'c.pkl'), '--python', py], { IQA_MODEL_DIR: join(dir, 'models') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_MODEL: .*No module named 'torch'[\s\S]*-m pip install torch onnx onnxruntime/);
    const missing = run(['models', 'import', 'hyperiqa', '--checkpoint', join(dir, 'absent.pkl'), '--python', py]);
    expect(missing.stderr).toMatch(/ERR_INPUT: checkpoint not found/);
    const none = run(['models', 'import', 'ssim', '--checkpoint', join(dir, 'c.pkl')]);
    expect(none.stderr).toMatch(/ERR_INPUT: 'ssim' has no export tool/);
  });
});
