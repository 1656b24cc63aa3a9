// A bounded multipart/form-data parser over one Buffer (RFC 7578): the body arrives as a single
// Buffer (Fastify's parseAs 'buffer', capped by bodyLimit) and each part is a subarray view of
// it, so file bytes go to native code without a copy. Boundaries are found with Buffer.indexOf
// (native memmem) instead of a streaming parser's per-chunk JavaScript scanning.
import { IqaError } from 'iqa-node';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 8 * 1024;

function malformed(why) {
  return Object.assign(new IqaError('ERR_INPUT', `malformed multipart/form-data body: ${why}`), { statusCode: 400 });
}

/** The boundary parameter of a multipart/form-data Content-Type (RFC 2046: 1..70 characters). */
export function boundaryOf(contentType) {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType ?? '');
  if (!m) throw malformed('no boundary in Content-Type');
  return m[1] ?? m[2];
}

/** A Content-Disposition parameter: quoted (with \" escapes) or a token. */
function param(header, name) {
  const m = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`, 'i').exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

/**
 * Splits `body` into parts: [{ name, filename?, contentType?, data }] where data is a view into
 * body. At most `maxParts` parts; anything else malformed is ERR_INPUT (400).
 */
export function parseMultipart(body, contentType, { maxParts = 4 } = {}) {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const dashBoundary = delimiter.subarray(2);
  // The first delimiter may open the body (no preamble) or follow a preamble and CRLF.
  let pos = body.subarray(0, dashBoundary.length).equals(dashBoundary) ? 0 : body.indexOf(delimiter);
  if (pos < 0) throw malformed('no boundary delimiter');
  if (pos > 0) pos += 2;
  const parts = [];
  for (;;) {
    let p = pos + dashBoundary.length;
    if (body[p] === 0x2d && body[p + 1] === 0x2d) return parts; // "--": the close delimiter
    while (body[p] === 0x20 || body[p] === 0x09) p++; // transport padding
    if (!body.subarray(p, p + 2).equals(CRLF)) throw malformed('delimiter not followed by CRLF');
    p += 2;
    if (parts.length >= maxParts) throw malformed(`more than ${maxParts} parts`);
    const headerEnd = body.indexOf(HEADER_END, p - 2);
    if (headerEnd < 0 || headerEnd - p > MAX_HEADER_BYTES) throw malformed('part headers not terminated');
    const headers = {};
    if (headerEnd > p - 2)
      for (const line of body.toString('latin1', p, headerEnd).split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformed(`bad part header line '${line.slice(0, 40)}'`);
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    const disposition = headers['content-disposition'];
    if (!disposition || !/^form-data\b/i.test(disposition)) throw malformed('part without Content-Disposition: form-data');
    const name = param(disposition, 'name');
    if (name === undefined) throw malformed('part without a name');
    const start = headerEnd + 4;
    const end = body.indexOf(delimiter, start);
    if (end < 0) throw malformed('part not terminated by a boundary');
    parts.push({ name, filename: param(disposition, 'filename'), contentType: headers['content-type'], data: body.subarray(start, end) });
    pos = end + 2;
  }
}
