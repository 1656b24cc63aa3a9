// Runs the fuzz loop in its own process (spawned by robustness.test.ts): a crash shows as a
// non-zero exit, and the parent sees everything the codecs write to stderr (it must be nothing).
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { sharpness, IqaError, ERROR_CODES } = require('../dist/cjs/index.js');

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src, r) {
  const b = Buffer.from(src);
  const kind = Math.floor(r() * 4);
  if (kind === 0) {
    // flip a few bits, half of them in the header
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      const pos = r() < 0.5 ? Math.floor(r() * Math.min(64, b.length)) : Math.floor(r() * b.length);
      b[pos] ^= 1 << Math.floor(r() * 8);
    }
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length));
  if (kind === 2) {
    const start = Math.floor(r() * b.length);
    const len = Math.floor(r() * 32);
    for (let i = start; i < Math.min(b.length, start + len); i++) b[i] = Math.floor(r() * 256);
    return b;
  }
  const a = Math.floor(r() * b.length);
  const c = Math.min(b.length, a + Math.floor(r() * 64));
  return r() < 0.5 ? Buffer.concat([b.subarray(0, a), b.subarray(a, c), b.subarray(a)]) : Buffer.concat([b.subarray(0, a), b.subarray(c)]);
}

async function main() {
  const total = Number(process.argv[2] || 10000);
  // 'heif': HEIC/AVIF apart (libheif, libde265 and dav1d under our own AV1 plugin), slower per call.
  const group = process.argv[3] || 'main';
  const names = group === 'heif'
    ? ['formats/heic-rgb.heic', 'formats/avif-alpha.avif', 'formats/avif-rgb.avif']
    : [
        'images/rgb8.png', 'images/rgb8.jpg', 'images/rgb8.webp', 'images/rgb8.bmp', 'images/rgb8.tiff', 'images/rgb16.png', 'images/rgba8.png', 'images/gray8.png',
        'formats/gif-animated.gif', 'formats/webp-animated.webp', 'formats/jpeg-cmyk.jpg', 'formats/png-palette-trns.png',
      ];
  const seeds = names.map((n) => readFileSync(join(__dirname, 'fixtures', n)));
  const r = rng(7);
  const summary = { total: 0, scored: 0, failed: 0, codes: {}, bad: [] };
  for (let done = 0; done < total; done += 100) {
    const batch = Array.from({ length: Math.min(100, total - done) }, () => mutate(seeds[Math.floor(r() * seeds.length)], r));
    const { scores, errors } = await sharpness.batchSettled(batch, { limitInputPixels: 4096 * 4096 });
    for (let i = 0; i < batch.length; i++) {
      summary.total++;
      const e = errors[i];
      if (e) {
        summary.failed++;
        summary.codes[e.code] = (summary.codes[e.code] || 0) + 1;
        if (!(e instanceof IqaError) || !ERROR_CODES.includes(e.code) || e.code === 'ERR_INTERNAL') summary.bad.push(`${e.code}: ${e.message}`);
      } else if (Number.isFinite(scores[i])) {
        summary.scored++;
      } else {
        summary.bad.push(`non-finite score ${scores[i]}`);
      }
    }
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(3);
});
