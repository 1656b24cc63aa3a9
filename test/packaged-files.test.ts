// What the packed package carries for users without Debian's opencv-data or an exports-aware
// resolver: OpenCV's LIVE BRISQUE model under models/opencv/, and the drop-ins as plain files.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { brisque } from '../dist/cjs/index.js';
import { packagedBrisqueModel } from '../dist/cjs/nr/brisque.js';

const debianModel = '/usr/share/opencv4/quality/brisque_model_live.yml';
const debianRange = '/usr/share/opencv4/quality/brisque_range_live.yml';
const img = resolve('samples/aqua_pristine.png');

describe('packaged BRISQUE model', () => {
  it('is found only when both files are in <root>/models/opencv', () => {
    const root = mkdtempSync(join(tmpdir(), 'iqa-pack-'));
    try {
      expect(packagedBrisqueModel(root)).toBeNull();
      mkdirSync(join(root, 'models', 'opencv'), { recursive: true });
      copyFileSync(debianModel, join(root, 'models', 'opencv', 'brisque_model_live.yml'));
      expect(packagedBrisqueModel(root)).toBeNull();
      copyFileSync(debianRange, join(root, 'models', 'opencv', 'brisque_range_live.yml'));
      expect(packagedBrisqueModel(root)).toEqual({
        model: join(root, 'models', 'opencv', 'brisque_model_live.yml'),
        range: join(root, 'models', 'opencv', 'brisque_range_live.yml'),
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('scores as the native default does when passed explicitly (so the packed default is the same metric)', async () => {
    if (!existsSync(img)) return void console.warn('samples missing: run node scripts/make-samples.mjs');
    const byDefault = await brisque(img);
    const explicit = await brisque(img, { model: debianModel, range: debianRange });
    expect(explicit).toBe(byDefault);
  });
});

describe('drop-ins as plain files (resolvers that ignore "exports")', () => {
  const req = createRequire(import.meta.url);
  it('ssim.js and image-ssim.js at the package root are the exports-map modules', () => {
    expect(req('../ssim.js').ssim).toBe(req('../dist/cjs/compat/ssimjs.js').ssim);
    expect(req('../image-ssim.js').compare).toBe(req('../dist/cjs/compat/image-ssim.js').compare);
  });
});
