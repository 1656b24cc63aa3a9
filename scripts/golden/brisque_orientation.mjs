#!/usr/bin/env node
// Writes test/golden/brisque_orientation.json: cv::imread (which applies EXIF orientation to
// JPEG and PNG) + cv::quality::QualityBRISQUE (native/tools/opencv_brisque_ref.cpp, OpenCV only)
// on the images scripts/golden/exif-orientations.mjs writes (8 sources x 8 orientations x JPEG,
// PNG), with each file's sha256 so the test knows it regenerated the same bytes.
//   node scripts/golden/brisque_orientation.mjs     (needs ../shared and a built addon)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOrientationSet } from './exif-orientations.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tool = join(root, 'build-tools', 'opencv_brisque_ref');
if (!existsSync(tool)) {
  execFileSync('cmake', ['-S', root, '-B', join(root, 'build-tools'), '-DIQA_BUILD_TOOLS=ON', '-DIQA_BUILD_ADDON=OFF', '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'inherit' });
  execFileSync('cmake', ['--build', join(root, 'build-tools'), '--target', 'opencv_brisque_ref', '-j2'], { stdio: 'inherit' });
}
const { encode } = await import(join(root, 'dist', 'cjs', 'index.js'));
const dir = mkdtempSync(join(tmpdir(), 'iqa-orient-'));
try {
  const names = await writeOrientationSet(encode, join(root, '..', 'shared', 'data'), dir);
  const out = execFileSync(
    tool,
    ['/usr/share/opencv4/quality/brisque_model_live.yml', '/usr/share/opencv4/quality/brisque_range_live.yml', dir + '/'],
    { input: names.map((n) => join(dir, n)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const ref = JSON.parse(out);
  const sha256 = Object.fromEntries(names.map((n) => [n, createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')]));
  const golden = { opencv: ref.opencv, reader: 'cv::imread(IMREAD_COLOR)', scores: ref.scores, sha256 };
  writeFileSync(join(root, 'test', 'golden', 'brisque_orientation.json'), JSON.stringify(golden, null, 1) + '\n');
  console.log(`wrote test/golden/brisque_orientation.json (${names.length} images)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
