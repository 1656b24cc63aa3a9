// A minimal reader of MATLAB MAT-file level 5 (what MATLAB's save writes by default, -v6/-v7,
// compressed or not): numeric arrays and cell arrays of strings, the contents of LIVE
// Challenge's AllImages_release.mat / AllMOS_release.mat. Hand-written: no maintained npm package
// reads MAT v5; the format is documented by MathWorks ("MAT-File Format", level 5). MAT v7.3 is
// HDF5 and is rejected with a clear error.
import { inflateSync } from 'node:zlib';
import { IqaError } from '../../core/errors';

export type MatValue = Float64Array | string | MatValue[];

const miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6, miSINGLE = 7, miDOUBLE = 9, miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15, miUTF8 = 16;
const mxCELL = 1, mxCHAR = 4;

interface Element {
  type: number;
  data: Buffer;
  next: number;
}

function readElement(buf: Buffer, off: number, le: boolean): Element {
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (off + 8 > buf.length) throw new Error('truncated element tag');
  const first = u32(off);
  if (first >>> 16 !== 0) {
    // Small data element: type and size share the first 4 bytes, data in the next 4.
    const type = first & 0xffff;
    const size = first >>> 16;
    return { type, data: buf.subarray(off + 4, off + 4 + size), next: off + 8 };
  }
  const size = u32(off + 4);
  if (off + 8 + size > buf.length) throw new Error('truncated element data');
  const data = buf.subarray(off + 8, off + 8 + size);
  const padded = first === miCOMPRESSED ? size : Math.ceil(size / 8) * 8;
  return { type: first, data, next: off + 8 + padded };
}

function numbers(e: Element, le: boolean): Float64Array {
  const d = e.data;
  const sizes: Record<number, number> = { [miINT8]: 1, [miUINT8]: 1, [miINT16]: 2, [miUINT16]: 2, [miINT32]: 4, [miUINT32]: 4, [miSINGLE]: 4, [miDOUBLE]: 8, [miINT64]: 8, [miUINT64]: 8 };
  const size = sizes[e.type];
  if (!size) throw new Error(`unsupported numeric element type ${e.type}`);
  const n = d.length / size;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (e.type) {
      case miINT8: out[i] = d.readInt8(o); break;
      case miUINT8: out[i] = d.readUInt8(o); break;
      case miINT16: out[i] = le ? d.readInt16LE(o) : d.readInt16BE(o); break;
      case miUINT16: out[i] = le ? d.readUInt16LE(o) : d.readUInt16BE(o); break;
      case miINT32: out[i] = le ? d.readInt32LE(o) : d.readInt32BE(o); break;
      case miUINT32: out[i] = le ? d.readUInt32LE(o) : d.readUInt32BE(o); break;
      case miSINGLE: out[i] = le ? d.readFloatLE(o) : d.readFloatBE(o); break;
      case miDOUBLE: out[i] = le ? d.readDoubleLE(o) : d.readDoubleBE(o); break;
      default: out[i] = Number(le ? d.readBigInt64LE(o) : d.readBigInt64BE(o));
    }
  }
  return out;
}

function matrix(data: Buffer, le: boolean): { name: string; value: MatValue } {
  let off = 0;
  const flags = readElement(data, off, le);
  off = flags.next;
  const cls = numbers(flags, le)[0] & 0xff;
  const dimsEl = readElement(data, off, le);
  off = dimsEl.next;
  const dims = numbers(dimsEl, le);
  const nameEl = readElement(data, off, le);
  off = nameEl.next;
  const name = nameEl.data.toString('latin1');
  const count = dims.reduce((a, b) => a * b, 1);
  if (cls === mxCELL) {
    const cells: MatValue[] = [];
    for (let i = 0; i < count; i++) {
      const e = readElement(data, off, le);
      off = e.next;
      if (e.type !== miMATRIX) throw new Error('cell entry is not a matrix');
      cells.push(e.data.length === 0 ? new Float64Array(0) : matrix(e.data, le).value);
    }
    return { name, value: cells };
  }
  if (cls === mxCHAR) {
    const e = readElement(data, off, le);
    if (e.type === miUTF8 || e.type === miUINT8 || e.type === miINT8) return { name, value: e.data.toString('utf8') };
    const codes = numbers(e, le);
    return { name, value: String.fromCharCode(...codes) };
  }
  if (cls >= 6 && cls <= 15) return { name, value: numbers(readElement(data, off, le), le) };
  throw new Error(`unsupported MATLAB class ${cls} for variable '${name}'`);
}

/** Reads the variables of a level-5 MAT file. */
export function readMat(buf: Buffer, file = 'MAT file'): Map<string, MatValue> {
  if (buf.length < 128) throw new IqaError('ERR_INPUT', `${file}: too short for a MAT file`);
  if (buf.subarray(0, 128).toString('latin1').includes('MATLAB 7.3')) throw new IqaError('ERR_INPUT', `${file}: MAT v7.3 (HDF5) is not supported; re-save it with save(..., '-v7')`);
  const endian = buf.toString('latin1', 126, 128);
  if (endian !== 'IM' && endian !== 'MI') throw new IqaError('ERR_INPUT', `${file}: not a MATLAB level-5 MAT file`);
  const le = endian === 'IM';
  const vars = new Map<string, MatValue>();
  try {
    let off = 128;
    while (off + 8 <= buf.length) {
      let e = readElement(buf, off, le);
      off = e.next;
      if (e.type === miCOMPRESSED) e = readElement(inflateSync(e.data), 0, le);
      if (e.type !== miMATRIX) continue;
      const { name, value } = matrix(e.data, le);
      vars.set(name, value);
    }
  } catch (err) {
    throw new IqaError('ERR_INPUT', `${file}: cannot read MAT data (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return vars;
}
