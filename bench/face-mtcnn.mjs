// MTCNN detection speed, one run, anchor and ours side by side:
//   ours:   faceQuality(img, { detector: 'mtcnn' }) (native cascade, ONNX Runtime; detection only)
//   anchor: facenet-pytorch's MTCNN.detect on the same shrunk images (bench/mtcnn_reference.py),
//           the implementation the cascade follows (boxes agree to 1e-4 px, test/face-mtcnn.test.ts)
// Images: the two SER-FIQ demo photos (867x1300, 730x1300) from ../shared, at maxSide 640 and 0.
// Usage: node bench/face-mtcnn.mjs [ROUNDS=5] [PYTHON=/work/pyenv/bin/python] [THREADS=2]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = require(join(root, 'dist/cjs/index.js'));
const rounds = Number(process.argv[2] ?? 5);
const python = process.argv[3] ?? process.env.PYTHON ?? '/work/pyenv/bin/python';
const threads = Number(process.argv[4] ?? 2);
const faces = join(root, '..', 'shared', 'data', 'faces');
const images = [join(faces, 'serfiq_test_img.jpeg'), join(faces, 'serfiq_test_img2.jpeg')];

console.log(`MTCNN detection, ${cpus().length} CPUs, ${rounds} rounds x ${images.length} images (one face each), intra-op threads ${threads}`);
for (const maxSide of [640, 0]) {
  const opts = { detector: 'mtcnn', maxSide, intraOpThreads: threads };
  await iqa.faceQuality(images[0], opts); // load + warm-up
  const t0 = process.hrtime.bigint();
  let last;
  for (let r = 0; r < rounds; r++) for (const img of images) last = await iqa.faceQuality(img, opts);
  const ours = Number(process.hrtime.bigint() - t0) / 1e6 / (rounds * images.length);
  const ref = JSON.parse(execFileSync(python, [join(root, 'bench', 'mtcnn_reference.py'), String(rounds), String(maxSide), String(threads), ...images], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const b = last.faces[0].box;
  console.log(`  maxSide ${String(maxSide).padEnd(4)} ours ${ours.toFixed(1)} ms/image   facenet-pytorch ${ref.msPerImage.toFixed(1)} ms/image (torch ${ref.torch}, ${ref.threads} threads)   ratio ${(ref.msPerImage / ours).toFixed(2)}x`);
  console.log(`               same boxes: ours [${[b.x, b.y, b.x + b.width, b.y + b.height].map((v) => v.toFixed(2)).join(', ')}] vs anchor [${ref.lastBoxes[0].map((v) => v.toFixed(2)).join(', ')}] (last image)`);
}
