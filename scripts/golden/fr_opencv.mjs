#!/usr/bin/env node
// Writes test/golden/fr_opencv.json: OpenCV quality-module values (QualitySSIM, QualityGMSD,
// QualityPSNR from Debian libopencv-contrib-dev) on the calibration pairs in ../shared, computed
// by native/tools/opencv_fr_ref.cpp, which uses OpenCV only. Run from the repository root:
//   node scripts/golden/fr_opencv.mjs
// Builds the tool into build-tools/ (cmake -DIQA_BUILD_TOOLS=ON) if it is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = join(root, '..', 'shared', 'data', 'calibration');
const tool = join(root, 'build-tools', 'opencv_fr_ref');
if (!existsSync(shared)) {
  console.error(`calibration images not found at ${shared}`);
  process.exit(1);
}
if (!existsSync(tool)) {
  execFileSync('cmake', ['-S', root, '-B', join(root, 'build-tools'), '-DIQA_BUILD_TOOLS=ON', '-DIQA_BUILD_ADDON=OFF', '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'inherit' });
  execFileSync('cmake', ['--build', join(root, 'build-tools'), '--target', 'opencv_fr_ref', '-j2'], { stdio: 'inherit' });
}
const names = ['I03', 'I04', 'I06', 'I08', 'I19'];
const args = names.flatMap((n) => [join(shared, 'ref_dir', `${n}.bmp`), join(shared, 'dist_dir', `${n}.bmp`)]);
const lines = execFileSync(tool, args, { encoding: 'utf8' }).trim().split('\n');
const pairs = {};
lines.forEach((line, i) => {
  const rec = JSON.parse(line);
  delete rec.ref;
  delete rec.dist;
  pairs[names[i]] = rec;
});
const version = execFileSync('pkg-config', ['--modversion', 'opencv4'], { encoding: 'utf8' }).trim();
const out = {
  source: `OpenCV ${version} cv::quality (QualitySSIM, QualityGMSD, QualityPSNR) via native/tools/opencv_fr_ref.cpp`,
  generator: relative(root, fileURLToPath(import.meta.url)),
  notes: [
    'per-channel values in OpenCV (BGR) order',
    '*_u8: 8-bit input (OpenCV computes in float32); *_f64: the same pixels as CV_64F (OpenCV computes in double)',
    'QualitySSIM: 11x11 Gaussian sigma 1.5, full-size map, reflect-101 borders; QualityGMSD: population std of the map',
    '*_map: mean, population std and size of the first (blue) channel map',
  ],
  pairs,
};
mkdirSync(join(root, 'test', 'golden'), { recursive: true });
writeFileSync(join(root, 'test', 'golden', 'fr_opencv.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote test/golden/fr_opencv.json (${names.length} pairs)`);
