// Makes the sample images the README's first command scores: photographs from Debian's
// mate-backgrounds package (GPL-2+, see /usr/share/doc/mate-backgrounds/copyright), resized to
// 512x384, each pristine and with three known distortions (JPEG q10, Gaussian blur, white noise).
// The samples are generated, not committed.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = createRequire(import.meta.url)(join(root, 'dist/cjs/index.js'));
const SOURCE = process.env.IQA_SAMPLE_SOURCE ?? '/usr/share/backgrounds/mate/nature';
const OUT = join(root, 'samples');
const PHOTOS = ['Aqua.jpg', 'Dune.jpg', 'LadyBird.jpg', 'Storm.jpg'];

if (!existsSync(SOURCE)) {
  console.error(`make-samples: ${SOURCE} not found (apt-get install mate-backgrounds, or set IQA_SAMPLE_SOURCE)`);
  process.exit(1);
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Separable Gaussian blur on interleaved 8-bit pixels, replicated borders.
function blur({ data, width, height, channels }, sigma) {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const pass = (src, horizontal) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let i = -r; i <= r; i++) {
            const xx = horizontal ? Math.min(width - 1, Math.max(0, x + i)) : x;
            const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + i));
            acc += k[i + r] * src[(yy * width + xx) * channels + c];
          }
          dst[(y * width + x) * channels + c] = acc / ks;
        }
    return dst;
  };
  return { data: Uint8Array.from(pass(pass(data, true), false), (v) => Math.round(v)), width, height, channels };
}

function noise({ data, width, height, channels }, sigma, seed) {
  const rnd = mulberry32(seed);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const g = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    out[i] = Math.max(0, Math.min(255, Math.round(data[i] + sigma * g)));
  }
  return { data: out, width, height, channels };
}

mkdirSync(OUT, { recursive: true });
const available = new Set(readdirSync(SOURCE));
let n = 0;
for (const [i, photo] of PHOTOS.entries()) {
  if (!available.has(photo)) continue;
  const name = parse(photo).name.toLowerCase();
  const img = await iqa.preprocess(join(SOURCE, photo), { resize: { width: 512, height: 384, interp: 'area' } });
  const raw = { data: img.data, width: img.width, height: img.height, channels: img.channels, order: 'bgr' };
  writeFileSync(join(OUT, `${name}_pristine.png`), await iqa.encode(raw, { format: 'png' }));
  writeFileSync(join(OUT, `${name}_jpeg-q10.jpg`), await iqa.encode(raw, { format: 'jpeg', quality: 10 }));
  writeFileSync(join(OUT, `${name}_blur-s3.png`), await iqa.encode({ ...blur(raw, 3), order: 'bgr' }, { format: 'png' }));
  writeFileSync(join(OUT, `${name}_noise-s25.png`), await iqa.encode({ ...noise(raw, 25, i + 1), order: 'bgr' }, { format: 'png' }));
  n += 4;
}
console.error(`make-samples: wrote ${n} images to ${OUT}`);
