// Dataset loaders on small samples of each dataset's real label format (test/fixtures/datasets,
// written by scripts/fixtures/make_dataset_fixtures.py), plus BIQ2021's real CSV from ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat, load, readMat, readXlsxSheet } from '../lib/evaluation/datasets';
import { IqaError } from '../lib/core/errors';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const FIX = join(ROOT, 'test/fixtures/datasets');

function loadError(f: () => unknown): IqaError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IqaError);
    return e as IqaError;
  }
  throw new Error('expected an IqaError');
}

describe('dataset loaders', () => {
  it('generic CSV: quoted names with spaces, commas and quotes; a ref column', () => {
    const d = load(join(FIX, 'generic/labels.csv'));
    expect(d.format).toBe('csv');
    expect(d.items.map((i) => i.name)).toEqual(['plain.png', 'with space.png', 'a, comma.png', 'say "cheese".png', 'ss01 (7).png', 'deep/sub dir.png']);
    expect(d.items.map((i) => i.mos)).toEqual([4.5, 3.9, 3.1, 2.4, 1.7, 1.2]);
    expect(d.items.every((i) => existsSync(i.image) && i.ref === join(FIX, 'generic/ref.png'))).toBe(true);
    expect(d.skipped).toEqual([]);
  });

  it('lists every missing image in one error, or skips and counts them', () => {
    const e = loadError(() => load(join(FIX, 'generic/missing.csv')));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/2 of 3 labelled images are missing/);
    expect(e.message).toContain('not here, 1.png');
    expect(e.message).toContain('not-here-2.png');
    const d = load(join(FIX, 'generic/missing.csv'), { skipMissing: true });
    expect(d.items.map((i) => i.name)).toEqual(['plain.png']);
    expect(d.skipped).toEqual(['not here, 1.png', 'not-here-2.png']);
  });

  it("BIQ2021's Train.csv ('Image Name,MOS', images in Images/)", () => {
    expect(detectFormat(join(FIX, 'biq2021/Train.csv'))).toBe('biq2021');
    const d = load(join(FIX, 'biq2021/Train.csv'));
    expect(d.items).toHaveLength(7);
    expect(d.items[1]).toMatchObject({ name: 'ss01 (1726).jpg', mos: 0.28289, image: join(FIX, 'biq2021/Images/ss01 (1726).jpg') });
    expect(d.items[6].mos).toBe(-0.00468);
  });

  it.skipIf(!HAS_SHARED)(`BIQ2021 train-subset.csv from ../shared (3,000 images) ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
    const d = load(sharedPath('data/biq2021/train-subset.csv'), { images: sharedPath('data/biq2021/images') });
    expect(d.items).toHaveLength(3000);
    expect(d.items[0]).toMatchObject({ name: 'ss03 (5261).jpg', mos: 0.8188 });
  });

  it('KonIQ-10k koniq10k_scores_and_distributions.csv (MOS or MOS_zscore)', () => {
    const f = join(FIX, 'koniq10k/koniq10k_scores_and_distributions.csv');
    expect(detectFormat(f)).toBe('koniq10k');
    const d = load(f);
    expect(d.items).toHaveLength(6);
    expect(d.items[0].name).toBe('10004473376.jpg');
    expect(d.items[0].mos).toBeCloseTo(3.8285714285714287, 12);
    expect(d.items[0].std).toBeCloseTo(0.5272778944939547, 12);
    expect(d.items[0].image).toBe(join(FIX, 'koniq10k/1024x768/10004473376.jpg'));
    const z = load(f, { scoreColumn: 'MOS_zscore' });
    expect(z.items[0].mos).toBeGreaterThan(50);
  });

  it('TID2013 mos_with_names.txt: type, level and reference from the name', () => {
    const f = join(FIX, 'tid2013/mos_with_names.txt');
    expect(detectFormat(f)).toBe('tid2013');
    const d = load(f);
    expect(d.items).toHaveLength(7);
    expect(d.items[2]).toMatchObject({ name: 'i01_08_3.bmp', mos: 4.19444, group: 'Gaussian blur', level: 3, ref: join(FIX, 'tid2013/reference_images/I01.BMP') });
    expect(d.items[5]).toMatchObject({ name: 'I02_10_4.BMP', group: 'JPEG compression', level: 4, ref: join(FIX, 'tid2013/reference_images/I02.BMP') });
    expect(d.items[0].image).toBe(join(FIX, 'tid2013/distorted_images/i01_01_1.bmp'));
  });

  it('LIVE Challenge Data/*.mat (MAT v5, compressed) with training images in Images/trainingImages', () => {
    const d = load(join(FIX, 'livec/Data/AllMOS_release.mat'));
    expect(d.format).toBe('livec');
    expect(d.items.map((i) => i.name)).toEqual(['t1.bmp', 't2.bmp', '100.bmp', '1000.JPG', '1001.JPG', '1002.JPG']);
    expect(d.items[0].image).toBe(join(FIX, 'livec/Images/trainingImages/t1.bmp'));
    expect(d.items[2]).toMatchObject({ mos: 35.1591, std: 19.2, image: join(FIX, 'livec/Images/100.bmp') });
    expect(load(join(FIX, 'livec')).items).toHaveLength(6);
  });

  it('readMat rejects what is not a MAT v5 file', () => {
    expect(() => readMat(Buffer.alloc(200), 'x.mat')).toThrow(/not a MATLAB level-5 MAT file/);
    const bad = Buffer.from(readFileSync(join(FIX, 'livec/Data/AllMOS_release.mat')).subarray(0, 150));
    expect(() => readMat(bad, 'cut.mat')).toThrow(IqaError);
  });

  it('CSIQ (export of csiq.DMOS.xlsx): DMOS, type, level, file names per type, reference', () => {
    const f = join(FIX, 'csiq/csiq.DMOS.txt');
    expect(detectFormat(f)).toBe('csiq');
    const d = load(f);
    expect(d.scoreKind).toBe('dmos');
    expect(d.items).toHaveLength(6);
    expect(d.items[2]).toMatchObject({ name: 'jpeg2000/1600.jpeg2000.2.png', mos: 0.193, std: 0.084, group: 'jpeg 2000', level: 2, ref: join(FIX, 'csiq/src_imgs/1600.png') });
    expect(d.items[3].image).toBe(join(FIX, 'csiq/dst_imgs/blur/aerial_city.BLUR.5.png'));
  });

  it('CSIQ csiq.DMOS.xlsx (sheet all_by_image) reads as its text export', () => {
    const f = join(FIX, 'csiq/csiq.DMOS.xlsx');
    expect(detectFormat(f)).toBe('csiq');
    const x = load(f);
    const t = load(join(FIX, 'csiq/csiq.DMOS.txt'));
    expect(x.items).toEqual(t.items);
    expect(() => load(join(FIX, 'csiq/csiq.DMOS.txt'), { format: 'csiq', images: join(FIX, 'csiq/nope') })).toThrow(/6 of 6 labelled images are missing/);
    expect(() => readXlsxSheet(Buffer.from('not a zip at all, not at all'), undefined, 'x.xlsx')).toThrow(/not an .xlsx workbook/);
  });

  it('bad label files are ERR_INPUT with the line', () => {
    expect(loadError(() => load('/nope/labels.csv')).message).toMatch(/not found/);
    expect(loadError(() => load(join(FIX, 'generic/labels.csv'), { format: 'tid2013' })).message).toMatch(/line 1/);
    expect(loadError(() => load(join(FIX, 'tid2013/mos_with_names.txt'), { format: 'csv' })).code).toBe('ERR_INPUT');
  });
});
