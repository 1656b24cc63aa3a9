// Builds the addon with cmake-js (Node-API 8; headers come from node itself, nothing is downloaded).
// `npm install` runs this only when no prebuild matches (node-gyp-build).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run('bash', [join(root, 'scripts/fetch-ort-headers.sh')]);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const extra = process.argv.slice(2);
run(process.execPath, [cmakeJs, 'compile', '--out', 'build', ...extra]);
