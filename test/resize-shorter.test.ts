// torchvision's tensor preprocessing as manifest options (what pyiqa's NIMA does): resize
// {shorter: S, interp: 'pil-bilinear', precision: 'float'} then crop {policy: 'center', center:
// 'half-even'}, against torchvision itself (to_tensor, T.functional.resize(x, S), center_crop,
// normalize, ONNX Runtime: test/golden/torchvision_resize.json from
// scripts/golden/torchvision_resize_golden.py), with negative controls showing the bound tells
// the options apart, the manifest checks, and shrinkOnLoad with a shorter-side resize.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IqaError, Model, preprocess, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, manifestVariant, sharedPath } from './helpers';

interface Row {
  where: 'fixture' | 'shared';
  file: string;
  S: number;
  size: [number, number];
  resized: [number, number];
  offset: [number, number];
  scores: Record<string, number>;
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/torchvision_resize.json'), 'utf8')) as {
  normalize: Record<string, { mean: number[]; std: number[] }>;
  images: Row[];
};
const MANIFESTS: Record<string, string> = {
  'tv-resize-tiny': join(ROOT, 'test/fixtures/torchvision-resize-tiny/tv-resize-tiny.json'),
  'nima-tiny': join(ROOT, 'test/fixtures/nima-tiny/nima-tiny.json'),
};
// Golden score keys: a model, or model@bicubic (torchvision's bicubic resize, ours 'pil-bicubic').
const manifestOf = (key: string) => MANIFESTS[key.split('@')[0]];
const interpOf = (key: string) => (key.endsWith('@bicubic') ? 'pil-bicubic' : 'pil-bilinear');
const dir = mkdtempSync(join(tmpdir(), 'iqa-tv-resize-'));
const imagePath = (r: Row) => (r.where === 'shared' ? sharedPath('data/calibration/dist_dir', r.file) : join(ROOT, r.file));

type Options = { precision: 'byte' | 'float'; center: 'floor' | 'half-even' };
const TORCHVISION: Options = { precision: 'float', center: 'half-even' };
const models = new Map<string, Promise<Model>>();
/** `model` at input size S with timm's normalisation for S and the given options (cached). */
function load(model: string, S: number, o: Options = TORCHVISION): Promise<Model> {
  const key = `${model}-${S}-${o.precision}-${o.center}`;
  if (!models.has(key)) {
    const p = manifestVariant(manifestOf(model), dir, key.replace('@', '-'), (m) => {
      m.input.width = m.input.height = S;
      m.input.normalize = { scale: 'unit', mean: golden.normalize[S].mean, std: golden.normalize[S].std };
      m.preprocess.resize = { shorter: S, interp: interpOf(model), precision: o.precision };
      m.preprocess.crop = { policy: 'center', center: o.center };
    });
    models.set(key, Model.load(p));
  }
  return models.get(key)!;
}
afterAll(async () => {
  for (const m of models.values()) await (await m).close();
});

async function delta(model: string, r: Row, o: Options = TORCHVISION): Promise<number> {
  return Math.abs((await (await load(model, r.S, o)).score(imagePath(r))) - r.scores[model]);
}
const row = (file: string, S: number) => golden.images.find((r) => r.file.endsWith(file) && r.S === S)!;

describe('resize {shorter, precision float} + crop center half-even against torchvision', () => {
  for (const model of ['tv-resize-tiny', 'tv-resize-tiny@bicubic', 'nima-tiny']) {
    for (const r of golden.images.filter((x) => model in x.scores)) {
      const skip = r.where === 'shared' && !HAS_SHARED;
      it.skipIf(skip)(`${model}: ${r.file.split('/').pop()} ${r.size.join('x')} -> ${r.resized.join('x')}, crop at ${r.offset.join(',')} (S = ${r.S}): within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
        const d = await delta(model, r);
        console.log(`torchvision-resize ${model} ${r.file} S=${r.S}: |ours - torchvision| = ${d.toExponential(2)}`);
        expect(d).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('the golden has the rounding cases it is meant to have', () => {
    // odd-margin.png: margins 71 and 95 (offsets 35.5 -> 36, 47.5 -> 48: half to even rounds up);
    // img2.png at 299: margin 89 (44.5 -> 44: rounds down, as floor); calibration at 299: 99 (49.5 -> 50).
    expect(row('odd-margin.png', 224).offset).toEqual([36, 0]);
    expect(row('odd-margin.png', 299).offset).toEqual([48, 0]);
    expect(row('img2.png', 299)).toMatchObject({ resized: [388, 299], offset: [44, 0] });
    // torchvision's output size: the long side int(S * long / short), truncated (298.67 -> 298).
    if (HAS_SHARED) expect(row('I03.bmp', 224).resized).toEqual([298, 224]);
  });
});

describe('negative controls: the 1e-4 bound tells the options apart', () => {
  // precision 'byte' (Pillow's 8-bit pixels): img0.png at 224 (260x240 -> 242x224, offsets equal).
  it("precision 'byte' misses torchvision by more than 1e-4 where the resize shrinks (img0.png, S = 224)", async () => {
    for (const model of ['tv-resize-tiny', 'nima-tiny']) {
      const d = await delta(model, row('img0.png', 224), { precision: 'byte', center: 'half-even' });
      console.log(`negative control byte ${model} img0.png S=224: ${d.toExponential(2)}`);
      expect(d).toBeGreaterThan(1e-4);
    }
  });
  // center 'floor' on odd-margin.png: offset 35.5 (floor 35, torchvision 36) and 47.5 (47 vs 48).
  for (const S of [224, 299]) {
    it(`center 'floor' misses torchvision by more than 1e-4 on odd-margin.png at S = ${S}`, async () => {
      const d = await delta('tv-resize-tiny', row('odd-margin.png', S), { precision: 'float', center: 'floor' });
      console.log(`negative control floor tv-resize-tiny odd-margin.png S=${S}: ${d.toExponential(2)}`);
      expect(d).toBeGreaterThan(1e-4);
    });
  }
  it.skipIf(!HAS_SHARED)(`center 'floor' misses torchvision on I08.bmp at S = 299 (offset 49.5)${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    const d = await delta('tv-resize-tiny', row('I08.bmp', 299), { precision: 'float', center: 'floor' });
    console.log(`negative control floor tv-resize-tiny I08.bmp S=299: ${d.toExponential(2)}`);
    expect(d).toBeGreaterThan(1e-4);
  });
});

describe('manifest checks', () => {
  const base = JSON.parse(readFileSync(MANIFESTS['tv-resize-tiny'], 'utf8')) as ModelManifest;
  const edit = (f: (m: ModelManifest) => void) => {
    const m = structuredClone(base);
    f(m);
    return m;
  };
  const rejects = (f: (m: ModelManifest) => void, message: RegExp) => {
    let err: unknown;
    try {
      validateManifest(edit(f));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IqaError);
    expect((err as IqaError).code).toBe('ERR_MODEL');
    expect((err as IqaError).message).toMatch(message);
  };

  it('the fixture manifest itself is valid, and so are the defaults (byte, floor)', () => {
    expect(() => validateManifest(base)).not.toThrow();
    expect(() => validateManifest(edit((m) => { m.preprocess.resize = { shorter: 224 }; m.preprocess.crop = { policy: 'center' }; }))).not.toThrow();
    expect(() => validateManifest(edit((m) => { m.preprocess.resize = { shorter: 224, interp: 'pil-bicubic', precision: 'float' }; }))).not.toThrow();
  });

  it('rejects shorter together with width/height, a non-positive shorter, and neither form', () => {
    rejects((m) => { m.preprocess.resize = { shorter: 224, width: 224, height: 224 }; }, /preprocess\.resize\.shorter: give either shorter or width and height/);
    rejects((m) => { m.preprocess.resize = { shorter: 224, width: 224 }; }, /preprocess\.resize\.shorter/);
    rejects((m) => { m.preprocess.resize = { shorter: 0 }; }, /preprocess\.resize\.shorter/);
    rejects((m) => { m.preprocess.resize = { shorter: -5 }; }, /preprocess\.resize\.shorter/);
    rejects((m) => { m.preprocess.resize = { width: 224 }; }, /preprocess\.resize: needs width and height, or shorter/);
    rejects((m) => { m.preprocess.resize = { interp: 'pil-bilinear' }; }, /preprocess\.resize: needs width and height, or shorter/);
  });

  it("rejects precision 'float' with an interp other than pil-bilinear / pil-bicubic, and unknown values", () => {
    for (const interp of ['area', 'bilinear', 'pil-lanczos', 'pil-nearest', 'matlab-bicubic'] as const)
      rejects((m) => { m.preprocess.resize = { shorter: 224, interp, precision: 'float' }; }, /preprocess\.resize\.precision: 'float' is implemented for interp 'pil-bilinear' and 'pil-bicubic' only/);
    rejects((m) => { m.preprocess.resize = { shorter: 224, precision: 'float' }; }, /preprocess\.resize\.precision.*got 'area'/);
    rejects((m) => { (m.preprocess.resize as Record<string, unknown>).precision = 'double'; }, /preprocess\.resize/);
  });

  it("rejects crop.center with a policy other than 'center', and unknown values", () => {
    for (const policy of ['resize', 'random', 'uniform', 'full', 'grid'] as const)
      rejects((m) => { m.preprocess.crop = { policy, center: 'half-even' }; }, /preprocess\.crop\.center: only the 'center' policy/);
    rejects((m) => { (m.preprocess.crop as Record<string, unknown>).center = 'round'; }, /preprocess\.crop\.center/);
  });
});

describe('shrinkOnLoad with a shorter-side resize', () => {
  // photo-800x600.jpg: the decode keeps width and height >= S, so the shorter side >= S:
  // S = 150 decodes at 1/4 (200x150), S = 151 at 1/2 (400x300, as 1/4's 150 is one short).
  const photo = readFileSync(join(ROOT, 'test/fixtures/shrink/photo-800x600.jpg'));
  for (const [S, w, h] of [[150, 200, 150], [151, 400, 300]] as const) {
    it(`S = ${S}: scores the ${w}x${h} scaled decode, exactly`, async () => {
      const key = `shrink-${S}`;
      const p = manifestVariant(MANIFESTS['tv-resize-tiny'], dir, key, (m) => {
        m.input.width = m.input.height = S;
        m.preprocess.resize = { shorter: S, interp: 'pil-bilinear', precision: 'float' };
        m.preprocess.shrinkOnLoad = true;
      });
      const shrinking = await Model.load(p);
      const plain = await Model.load(p, { shrinkOnLoad: false });
      try {
        const scaled = await preprocess(photo, { resize: { width: w, height: h, interp: 'pil-bilinear' }, shrinkOnLoad: true });
        expect([scaled.width, scaled.height]).toEqual([w, h]);
        const expected = await plain.score({ data: scaled.data as Uint8Array, width: w, height: h, channels: 3, order: 'bgr' });
        expect(await shrinking.score(photo)).toBe(expected);
        expect(await plain.score(photo)).not.toBe(expected); // the full decode differs
      } finally {
        await Promise.all([shrinking.close(), plain.close()]);
      }
    });
  }
});
