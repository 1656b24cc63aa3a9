// npm install hook: use a prebuild (prebuilds/<platform>-<arch>) or an existing build when one
// loads, else build from source with cmake-js (scripts/build-native.mjs).
// (node-gyp-build's own CLI would run node-gyp after any custom command, replacing the cmake build.)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fromSource = process.env.npm_config_build_from_source === 'true';
let found = null;
if (!fromSource) {
  try {
    found = require('node-gyp-build').path(root);
    require(found);
  } catch {
    found = null;
  }
}
if (found) {
  console.log(`iqa-node: using ${found}`);
} else {
  execFileSync(process.execPath, [join(root, 'scripts/build-native.mjs')], { cwd: root, stdio: 'inherit' });
}
