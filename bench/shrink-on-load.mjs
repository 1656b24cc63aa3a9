#!/usr/bin/env node
// JPEG shrink-on-load against a full decode, side by side in one process: a 12-megapixel photo
// (4000x3000, cut from mate-backgrounds' Elephants_5640x3172.jpg and saved at quality 92 and 75)
// decoded and resized to a model's input, with and without libjpeg-turbo's DCT scaling. Rows:
// decode + resize to 224x224 (pil-bilinear, as torchvision; area) and 640x480 (KonIQ++'s
// input), then whole model calls on the seeded fixtures whose manifests resize (NIMA 224,
// KonIQ++ 640x480) with the score each way. Prints medians, ratios and the pixel difference.
//   node bench/shrink-on-load.mjs [--reps N]
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const iqa = require(join(root, 'dist/cjs/index.js'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const reps = arg('reps', 15);
const source = '/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg';
if (!existsSync(source)) {
  console.error(`needs ${source} (Debian mate-backgrounds, installed by scripts/setup.sh)`);
  process.exit(2);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Alternates the two contenders call by call, so that load on the machine hits both alike.
async function sideBySide(full, shrunk) {
  const t = { full: [], shrunk: [] };
  await full();
  await shrunk();
  for (let i = 0; i < reps; i++) {
    for (const [name, fn] of [['full', full], ['shrunk', shrunk]]) {
      const t0 = process.hrtime.bigint();
      await fn();
      t[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return { full: median(t.full), shrunk: median(t.shrunk) };
}

const cut = await iqa.preprocess(source, { crop: { x: 820, y: 86, width: 4000, height: 3000 } });
const pixels = { data: cut.data, width: cut.width, height: cut.height, channels: 3, order: 'bgr' };
const photos = {};
for (const quality of [92, 75]) photos[quality] = await iqa.encode(pixels, { format: 'jpeg', quality });
const photo = photos[92];
console.log(`12 MP JPEG: 4000x3000 at quality 92 (${(photos[92].length / 1e6).toFixed(2)} MB) and 75 (${(photos[75].length / 1e6).toFixed(2)} MB); ${reps} calls each, alternating; medians`);
console.log('| row | full decode ms | shrink-on-load ms | ratio | pixels: mean / max abs difference |');
console.log('|---|---|---|---|---|');
for (const [width, height, interp, quality] of [[224, 224, 'pil-bilinear', 92], [224, 224, 'pil-bilinear', 75], [224, 224, 'area', 92], [640, 480, 'pil-bilinear', 92]]) {
  const photo = photos[quality];
  const resize = { width, height, interp };
  const t = await sideBySide(() => iqa.preprocess(photo, { resize }), () => iqa.preprocess(photo, { resize, shrinkOnLoad: true }));
  const a = await iqa.preprocess(photo, { resize }), b = await iqa.preprocess(photo, { resize, shrinkOnLoad: true });
  let sum = 0, max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    sum += d;
    max = Math.max(max, d);
  }
  console.log(`| q${quality}: decode + resize to ${width}x${height} ${interp} | ${t.full.toFixed(1)} | ${t.shrunk.toFixed(1)} | ${(t.full / t.shrunk).toFixed(2)}x | ${(sum / a.data.length).toFixed(3)} / ${max} |`);
}

for (const [name, manifest] of [['nima-tiny (224, pil-nearest)', 'test/fixtures/nima-tiny/nima-tiny.json'], ['koniqplusplus-tiny (640x480, pil-bilinear)', 'test/fixtures/koniqplusplus-tiny/koniqplusplus-tiny.json']]) {
  const path = join(root, manifest);
  if (!existsSync(path)) continue;
  const full = await iqa.Model.load(path, { intraOpThreads: 1 });
  const shrunk = await iqa.Model.load(path, { intraOpThreads: 1, shrinkOnLoad: true });
  const t = await sideBySide(() => full.score(photo), () => shrunk.score(photo));
  const a = await full.score(photo), b = await shrunk.score(photo);
  console.log(`| ${name} score(): ${a.toFixed(6)} / ${b.toFixed(6)} (difference ${Math.abs(a - b).toExponential(2)}) | ${t.full.toFixed(1)} | ${t.shrunk.toFixed(1)} | ${(t.full / t.shrunk).toFixed(2)}x | |`);
  await full.close();
  await shrunk.close();
}
