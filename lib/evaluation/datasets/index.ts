// Loaders for the label files of the usual IQA datasets, in their published formats.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { IqaError } from '../../core/errors';
import { FolderIndex, firstFolder, isDirectory, missingError } from './files';
import { readMat } from './mat';
import { readXlsxSheet } from './xlsx';
import type { Dataset, DatasetFormat, LabelledImage, LoadOptions } from './types';

export type { Dataset, DatasetFormat, LabelledImage, LoadOptions } from './types';
export { readMat, type MatValue } from './mat';
export { readXlsxSheet, type Cell } from './xlsx';

/**
 * CSIQ's label rows as [image, dst_idx, dst_type, dst_lev, dmos_std, dmos] with their line number:
 * from csiq.DMOS.xlsx (sheet 'all_by_image', columns found by their header) or from a tab-, comma-
 * or space-separated export of it (dst_type may hold a space: 'jpeg 2000').
 */
function csiqRows(file: string, labels: string): { f: string[]; i: number }[] {
  const columns = ['image', 'dst_idx', 'dst_type', 'dst_lev', 'dmos_std', 'dmos'];
  if (extname(file).toLowerCase() === '.xlsx') {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (e) {
      throw new IqaError('ERR_INPUT', `cannot read label file ${file}: ${(e as Error).message}`);
    }
    let sheet = readXlsxSheet(buf, undefined, labels);
    try {
      sheet = readXlsxSheet(buf, 'all_by_image', labels);
    } catch {
      // Not CSIQ's sheet name: the first sheet it is.
    }
    const h = sheet.findIndex((row) => row.some((c) => String(c).trim().toLowerCase() === 'dst_idx'));
    if (h < 0) throw new IqaError('ERR_INPUT', `${labels}: no header row with ${columns.join(', ')}`);
    const at = columns.map((name) => sheet[h].findIndex((c) => String(c).trim().toLowerCase() === name));
    const lost = columns.filter((_, k) => at[k] < 0);
    if (lost.length) throw new IqaError('ERR_INPUT', `${labels}: no column ${lost.join(', ')}`);
    return sheet
      .map((row, i) => ({ f: at.map((k) => (row[k] === null || row[k] === undefined ? '' : String(row[k]).trim())), i }))
      .filter(({ f, i }) => i > h && f.some((v) => v !== ''));
  }
  return readText(file)
    .split(/\r?\n/)
    .map((line, i) => ({ line, i }))
    .filter(({ line, i }) => line.trim().length > 0 && !(i === 0 && /^\s*image\b/i.test(line)))
    .map(({ line, i }) => {
      let f = line.includes('\t') ? line.split('\t') : line.includes(',') ? line.split(',') : line.trim().split(/\s+/);
      f = f.map((v) => v.trim());
      if (f.length > 6) f = [f[0], f[1], f.slice(2, f.length - 3).join(' '), ...f.slice(f.length - 3)];
      if (f.length !== 6) throw new IqaError('ERR_INPUT', `${labels}: line ${i + 1}: expected '${columns.join(' ')}'`);
      return { f, i };
    });
}

export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'biq2021', 'koniq10k', 'tid2013', 'livec', 'csiq'];

/** TID2013 distortion types, numbered as in its readme. */
export const TID2013_TYPES = [
  'additive Gaussian noise', 'additive noise in color components', 'spatially correlated noise', 'masked noise',
  'high frequency noise', 'impulse noise', 'quantization noise', 'Gaussian blur', 'image denoising', 'JPEG compression',
  'JPEG2000 compression', 'JPEG transmission errors', 'JPEG2000 transmission errors', 'non eccentricity pattern noise',
  'local block-wise distortions', 'mean shift (intensity shift)', 'contrast change', 'change of color saturation',
  'multiplicative Gaussian noise', 'comfort noise', 'lossy compression of noisy images', 'image color quantization with dither',
  'chromatic aberrations', 'sparse sampling and reconstruction',
] as const;

/** CSIQ dst_idx -> folder under dst_imgs/ and the tag in its file names (<image>.<TAG>.<level>.png). */
const CSIQ_TYPES: Record<number, { folder: string; tag: string; name: string }> = {
  1: { folder: 'awgn', tag: 'AWGN', name: 'noise' },
  2: { folder: 'jpeg', tag: 'JPEG', name: 'jpeg' },
  3: { folder: 'jpeg2000', tag: 'jpeg2000', name: 'jpeg 2000' },
  4: { folder: 'fnoise', tag: 'fnoise', name: 'f noise' },
  5: { folder: 'blur', tag: 'BLUR', name: 'blur' },
  6: { folder: 'contrast', tag: 'contrast', name: 'contrast' },
};

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new IqaError('ERR_INPUT', `cannot read label file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function parseCsv(text: string, file: string): Record<string, string>[] {
  try {
    return parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as Record<string, string>[];
  } catch (e) {
    throw new IqaError('ERR_INPUT', `${file}: not a valid CSV file (${(e as Error).message})`, { cause: e });
  }
}

function column(header: string[], aliases: string[], file: string, required: true): string;
function column(header: string[], aliases: string[], file: string, required: false): string | undefined;
function column(header: string[], aliases: string[], file: string, required: boolean): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  for (const a of aliases) {
    const hit = header.find((h) => norm(h) === norm(a));
    if (hit !== undefined) return hit;
  }
  if (required) throw new IqaError('ERR_INPUT', `${file}: no '${aliases[0]}' column (header: ${header.join(', ')})`);
  return undefined;
}

function toNumber(v: string | undefined, what: string, file: string, row: number): number {
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new IqaError('ERR_INPUT', `${file}: row ${row}: ${what} '${v ?? ''}' is not a number`);
  return n;
}

const IMAGE_ALIASES = ['image', 'image name', 'image_name', 'filename', 'file', 'name', 'path', 'dist', 'dist_name'];
const MOS_ALIASES = ['mos', 'score', 'dmos', 'label'];

/** Guesses the format of a label file from its name and first line. */
export function detectFormat(labels: string): DatasetFormat {
  const name = basename(labels).toLowerCase();
  if (isDirectory(labels) || extname(name) === '.mat') return 'livec';
  if (/mos_with_names|tid2013/.test(name)) return 'tid2013';
  if (/csiq/.test(name) || extname(name) === '.xlsx') return 'csiq';
  if (/koniq/.test(name)) return 'koniq10k';
  const first = readText(labels).split(/\r?\n/, 1)[0].toLowerCase();
  if (first.includes('image_name') && first.includes('c_total')) return 'koniq10k';
  if (first.includes('dst_idx')) return 'csiq';
  if (/^\s*[0-9.]+\s+\S+\.(bmp|png|jpe?g)\s*$/i.test(first)) return 'tid2013';
  if (first.startsWith('image name,')) return 'biq2021';
  return 'csv';
}

/**
 * Loads a dataset's labels and resolves its image paths. Every listed image must exist, else one
 * ERR_INPUT lists the missing ones (or, with skipMissing, they are left out and listed in `skipped`).
 */
export function load(labels: string, options: LoadOptions = {}): Dataset {
  const file = resolve(labels);
  try {
    statSync(file);
  } catch {
    throw new IqaError('ERR_INPUT', `label file not found: ${labels}`);
  }
  const format = !options.format || options.format === 'auto' ? detectFormat(file) : options.format;
  if (!DATASET_FORMATS.includes(format)) throw new IqaError('ERR_INPUT', `unknown dataset format '${String(format)}' (known: ${DATASET_FORMATS.join(', ')})`);
  const dir = dirname(file);
  const index = new FolderIndex();
  type RawItem = Omit<LabelledImage, 'image' | 'ref'> & { refName?: string; refId?: string };
  let raw: { items: RawItem[]; images: string; resolveImage(name: string): string | undefined; resolveRef?(item: RawItem): string | undefined; scoreKind: 'mos' | 'dmos' };
  const imagesOr = (candidates: string[]) => (options.images ? resolve(options.images) : firstFolder(candidates));
  switch (format) {
    case 'csv':
    case 'biq2021': {
      const rows = parseCsv(readText(file), labels);
      const header = rows.length ? Object.keys(rows[0]) : [];
      if (rows.length === 0) throw new IqaError('ERR_INPUT', `${labels}: no rows`);
      const img = column(header, IMAGE_ALIASES, labels, true);
      const mos = column(header, MOS_ALIASES, labels, true);
      const ref = column(header, ['ref', 'reference', 'ref_name'], labels, false);
      const std = column(header, ['std', 'sd', 'mos_std'], labels, false);
      const images = format === 'biq2021' ? imagesOr([join(dir, 'Images'), join(dir, 'images'), dir]) : imagesOr([dir]);
      raw = {
        images,
        scoreKind: /dmos/i.test(mos) ? 'dmos' : 'mos',
        items: rows.map((r, i) => ({ name: r[img], mos: toNumber(r[mos], mos, labels, i + 2), ...(ref && r[ref] ? { refName: r[ref] } : {}), ...(std && r[std] ? { std: Number(r[std]) } : {}) })),
        resolveImage: (name) => index.find(images, name),
        resolveRef: (item) => (item.refName ? index.find(images, item.refName) ?? index.find(dir, item.refName) : undefined),
      };
      break;
    }
    case 'koniq10k': {
      const rows = parseCsv(readText(file), labels);
      if (rows.length === 0) throw new IqaError('ERR_INPUT', `${labels}: no rows`);
      const header = Object.keys(rows[0]);
      const img = column(header, ['image_name'], labels, true);
      const mos = column(header, [options.scoreColumn ?? 'MOS'], labels, true);
      const sd = column(header, ['SD'], labels, false);
      const images = imagesOr([join(dir, '1024x768'), join(dir, '512x384'), join(dir, 'images'), dir]);
      raw = {
        images,
        scoreKind: 'mos',
        items: rows.map((r, i) => ({ name: r[img], mos: toNumber(r[mos], mos, labels, i + 2), ...(sd ? { std: Number(r[sd]) } : {}) })),
        resolveImage: (name) => index.find(images, name),
      };
      break;
    }
    case 'tid2013': {
      const images = imagesOr([join(dir, 'distorted_images'), dir]);
      const refs = firstFolder([join(dir, 'reference_images'), join(dirname(images), 'reference_images')]);
      const items = readText(file)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
        .map((l, i) => {
          const m = /^(\S+)\s+(\S+)$/.exec(l);
          if (!m) throw new IqaError('ERR_INPUT', `${labels}: line ${i + 1}: expected 'MOS name', got '${l}'`);
          const name = m[2];
          const parts = /^i(\d\d)_(\d\d)_(\d)\.\w+$/i.exec(name);
          if (!parts) throw new IqaError('ERR_INPUT', `${labels}: line ${i + 1}: '${name}' is not a TID2013 name like i01_07_3.bmp`);
          const type = Number(parts[2]);
          return { name, mos: toNumber(m[1], 'MOS', labels, i + 1), group: TID2013_TYPES[type - 1] ?? `type ${type}`, level: Number(parts[3]), refId: parts[1] };
        });
      raw = {
        images,
        scoreKind: 'mos',
        items,
        resolveImage: (name) => index.find(images, name),
        resolveRef: (item) => index.find(refs, `I${item.refId}.BMP`),
      };
      break;
    }
    case 'livec': {
      const data = isDirectory(file) ? (isDirectory(join(file, 'Data')) ? join(file, 'Data') : file) : dir;
      const root = basename(data) === 'Data' ? dirname(data) : data;
      const mat = (n: string) => readMat((() => {
        try {
          return readFileSync(join(data, n));
        } catch {
          throw new IqaError('ERR_INPUT', `LIVE Challenge: ${join(data, n)} not found`);
        }
      })(), n);
      const names = mat('AllImages_release.mat').get('AllImages_release');
      const mos = mat('AllMOS_release.mat').get('AllMOS_release');
      if (!Array.isArray(names) || !(mos instanceof Float64Array)) throw new IqaError('ERR_INPUT', 'LIVE Challenge: AllImages_release must be a cell array of names and AllMOS_release a numeric array');
      if (names.length !== mos.length) throw new IqaError('ERR_INPUT', `LIVE Challenge: ${names.length} names but ${mos.length} MOS values`);
      let std: Float64Array | undefined;
      try {
        const s = mat('AllStdDev_release.mat').get('AllStdDev_release');
        if (s instanceof Float64Array && s.length === mos.length) std = s;
      } catch {
        std = undefined;
      }
      const images = imagesOr([join(root, 'Images'), root]);
      raw = {
        images,
        scoreKind: 'mos',
        items: names.map((n, i) => {
          const name = Array.isArray(n) ? String(n[0]) : String(n);
          return { name, mos: mos[i], ...(std ? { std: std[i] } : {}) };
        }),
        // The first 7 entries (t1.bmp ... t7.bmp) live in Images/trainingImages.
        resolveImage: (name) => index.find(images, name) ?? index.find(join(images, 'trainingImages'), name),
      };
      break;
    }
    case 'csiq': {
      const images = imagesOr([join(dir, 'dst_imgs'), dir]);
      const refs = firstFolder([join(dir, 'src_imgs'), join(dirname(images), 'src_imgs')]);
      const rows = csiqRows(file, labels);
      const items = rows
        .map(({ f, i }) => {
          const idx = toNumber(f[1], 'dst_idx', labels, i + 1);
          const t = CSIQ_TYPES[idx];
          if (!t) throw new IqaError('ERR_INPUT', `${labels}: line ${i + 1}: unknown dst_idx ${idx}`);
          const level = toNumber(f[3], 'dst_lev', labels, i + 1);
          return { name: `${t.folder}/${f[0]}.${t.tag}.${level}.png`, refName: `${f[0]}.png`, mos: toNumber(f[5], 'dmos', labels, i + 1), std: toNumber(f[4], 'dmos_std', labels, i + 1), group: f[2] || t.name, level };
        });
      raw = {
        images,
        scoreKind: 'dmos',
        items,
        resolveImage: (name) => index.find(images, name),
        resolveRef: (item) => index.find(refs, item.refName!),
      };
      break;
    }
  }
  const items: LabelledImage[] = [];
  const missing: string[] = [];
  for (const it of raw.items) {
    const image = raw.resolveImage(it.name) ?? (options.requireImages === false ? join(raw.images, it.name) : undefined);
    if (!image) {
      missing.push(it.name);
      continue;
    }
    const ref = raw.resolveRef?.(it);
    const { name, mos, group, level, std } = it;
    items.push({ name, image, mos, ...(ref ? { ref } : {}), ...(group !== undefined ? { group } : {}), ...(level !== undefined ? { level } : {}), ...(std !== undefined && Number.isFinite(std) ? { std } : {}) });
  }
  if (missing.length > 0 && !options.skipMissing) throw missingError(missing, raw.images, raw.items.length);
  return { format, labels: file, images: raw.images, items, scoreKind: raw.scoreKind, skipped: missing };
}
