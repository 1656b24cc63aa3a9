// Face quality speed, one run, anchor and ours side by side:
//   ours:   faceQuality (YuNet detect on the image resized to 640 + Umeyama align to OFIQ's 616
//           template -> 192 -> 112 + a MagFace iResNet50 (seeded weights; same FLOPs as OFIQ's
//           magface_iresnet50_norm.onnx) + norm + OFIQ's sigmoid), single images and .batch
//   anchor: the same work as OFIQ does it (bench/face_reference.py: OpenCV DNN YuNet, skimage +
//           cv2 alignment, ONNX Runtime default session, batch 1), and OFIQ's published 4-7 s per
//           image (OFIQ issue #75; the whole OFIQ run, all its measures, not only the UQS)
// Faces: the two SER-FIQ demo photos (867x1300 and 730x1300, one face each), from ../shared.
// Usage: node bench/face.mjs MODEL_DIR [ROUNDS=10] [PYTHON=/work/pyenv/bin/python]
//   MODEL_DIR: python3 tools/export/magface.py --weights random --arch iresnet50 --also-ofiq --out-dir MODEL_DIR
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = require(join(root, 'dist/cjs/index.js'));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/face.mjs MODEL_DIR [ROUNDS] [PYTHON]');
const rounds = Number(process.argv[3] ?? 10);
const python = process.argv[4] ?? process.env.PYTHON ?? '/work/pyenv/bin/python';
const method = join(dir, 'ofiq-uqs.json');
const faces = join(root, '..', 'shared', 'data', 'faces');
const images = [join(faces, 'serfiq_test_img.jpeg'), join(faces, 'serfiq_test_img2.jpeg')];

const time = async (fn) => {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
};

await iqa.faceQuality(images[0], { method }); // load + warm-up
for (const img of images) await iqa.faceQuality(img, { method });
const [detMs] = await time(async () => {
  for (let r = 0; r < rounds; r++) for (const img of images) await iqa.faceQuality(img);
});
const [singleMs, last] = await time(async () => {
  let out;
  for (let r = 0; r < rounds; r++) for (const img of images) out = await iqa.faceQuality(img, { method });
  return out;
});
const many = Array.from({ length: rounds }, () => images).flat();
const [batchMs, batch] = await time(() => iqa.faceQuality.batch(many, { method }));
const n = rounds * images.length;
const ours = { detectMs: detMs / n, singleMs: singleMs / n, batchMs: batchMs / n, faces: batch.reduce((s, r) => s + r.faces.length, 0) };

const ref = JSON.parse(execFileSync(python, [join(root, 'bench', 'face_reference.py'), iqa.defaultDetectorPath(), join(dir, 'model.onnx'), String(rounds), ...images], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));

console.log(`face quality (detect + align + iResNet50 + norm + mapping), ${cpus().length} CPUs, ${n} images of ~0.9-1.1 MP, one face each`);
console.log(`  ours, detection only        ${ours.detectMs.toFixed(1)} ms/image`);
console.log(`  ours, one image per call    ${ours.singleMs.toFixed(1)} ms/image  (${(1000 / ours.singleMs).toFixed(1)} faces/s)`);
console.log(`  ours, .batch of ${String(n).padEnd(3)}         ${ours.batchMs.toFixed(1)} ms/image  (${(1000 / ours.batchMs).toFixed(1)} faces/s)`);
console.log(`  anchor: OFIQ-style Python   ${ref.msPerImage.toFixed(1)} ms/image  (OpenCV ${ref.opencv} DNN YuNet, ORT ${ref.ort} default session, batch 1)`);
console.log(`  anchor: OFIQ published      4000-7000 ms/image (issue #75, the whole OFIQ run)`);
console.log(`  ratio vs OFIQ-style Python  ${(ref.msPerImage / ours.singleMs).toFixed(2)}x single, ${(ref.msPerImage / ours.batchMs).toFixed(2)}x batch`);
console.log(`  ratio vs OFIQ published     ${(4000 / ours.batchMs).toFixed(0)}-${(7000 / ours.batchMs).toFixed(0)}x (batch), ${(4000 / ours.singleMs).toFixed(0)}-${(7000 / ours.singleMs).toFixed(0)}x (single)`);
console.log(`  same scores: ours raw ${last.faces.map((f) => f.raw.toFixed(4)).join(', ')} vs anchor ${ref.lastNorms.map((v) => v.toFixed(4)).join(', ')} (last image)`);
