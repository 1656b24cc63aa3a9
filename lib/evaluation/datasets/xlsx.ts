// A minimal reader of one worksheet of an Office Open XML workbook (.xlsx): enough for CSIQ's
// csiq.DMOS.xlsx (sheet 'all_by_image'). Hand-written: the maintained npm readers (exceljs,
// SheetJS) are large, and SheetJS is no longer published on npm; an .xlsx is a zip of XML files,
// read here with node:zlib. Cells come back as strings or numbers; styles, formulas and dates are ignored.
import { inflateRawSync } from 'node:zlib';
import { IqaError } from '../../core/errors';

export type Cell = string | number | null;

/** The files of a zip archive (stored or deflated entries), by name. */
function unzip(buf: Buffer): Map<string, Buffer> {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(off + 10);
    const size = buf.readUInt32LE(off + 20);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const local = buf.readUInt32LE(off + 42);
    const name = buf.toString('utf8', off + 46, off + 46 + nameLen);
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + size);
    if (method === 0) files.set(name, raw);
    else if (method === 8) files.set(name, inflateRawSync(raw));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_, e: string, d?: string, h?: string) =>
    d ? String.fromCodePoint(Number(d)) : h ? String.fromCodePoint(parseInt(h, 16)) : ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e],
  );

/** Text of <t> runs inside an element (shared strings and inline strings may be split in runs). */
const textOf = (xml: string) => [...xml.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g)].map((m) => unescapeXml(m[1])).join('');

function columnIndex(ref: string): number {
  const letters = /^[A-Z]+/.exec(ref)?.[0] ?? 'A';
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** Rows of the named sheet (or the first sheet) as arrays of cells indexed by column (A = 0). */
export function readXlsxSheet(buf: Buffer, sheet?: string, file = 'workbook'): Cell[][] {
  let files: Map<string, Buffer>;
  try {
    files = unzip(buf);
  } catch (e) {
    throw new IqaError('ERR_INPUT', `${file}: not an .xlsx workbook (${(e as Error).message})`, { cause: e });
  }
  const text = (name: string) => files.get(name)?.toString('utf8');
  const workbook = text('xl/workbook.xml');
  if (!workbook) throw new IqaError('ERR_INPUT', `${file}: no xl/workbook.xml`);
  const sheets = [...workbook.matchAll(/<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"/g)].map((m) => ({ name: unescapeXml(m[1]), rid: m[2] }));
  const chosen = sheet ? sheets.find((s) => s.name === sheet) : sheets[0];
  if (!chosen) throw new IqaError('ERR_INPUT', `${file}: no sheet '${sheet}' (sheets: ${sheets.map((s) => s.name).join(', ')})`);
  const rels = text('xl/_rels/workbook.xml.rels') ?? '';
  const target = [...rels.matchAll(/<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"/g)].find((m) => m[1] === chosen.rid)?.[2]
    ?? [...rels.matchAll(/<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"/g)].find((m) => m[2] === chosen.rid)?.[1];
  const path = target ? (target.startsWith('/') ? target.slice(1) : `xl/${target}`) : undefined;
  const xml = path ? text(path) : undefined;
  if (!xml) throw new IqaError('ERR_INPUT', `${file}: sheet '${chosen.name}' not found in the archive`);
  const shared = [...(text('xl/sharedStrings.xml') ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => textOf(m[1]));
  const rows: Cell[][] = [];
  for (const row of xml.matchAll(/<row\b[^>]*>([\s\S]*?)<\/row>/g)) {
    const cells: Cell[] = [];
    for (const c of row[1].matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const attrs = c[1];
      const body = c[2] ?? '';
      const col = columnIndex(/\br="([A-Z]+)\d*"/.exec(attrs)?.[1] ?? String.fromCharCode(65 + cells.length));
      const type = /\bt="([^"]*)"/.exec(attrs)?.[1];
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      let value: Cell = null;
      if (type === 's' && v !== undefined) value = shared[Number(v)] ?? null;
      else if (type === 'inlineStr') value = textOf(body);
      else if (type === 'str' || type === 'e') value = v !== undefined ? unescapeXml(v) : null;
      else if (type === 'b') value = v === '1' ? 1 : 0;
      else if (v !== undefined) value = Number(v);
      while (cells.length < col) cells.push(null);
      cells[col] = value;
    }
    rows.push(cells);
  }
  return rows;
}
