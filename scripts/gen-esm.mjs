// Writes the ESM entry points as thin wrappers over the CommonJS build, so that `import` and
// `require` share one module instance (one IqaError class, one addon), as Node's docs advise
// for dual packages.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const entries = { 'index.mjs': 'index.js', 'compat/ssimjs.mjs': 'compat/ssimjs.js', 'compat/image-ssim.mjs': 'compat/image-ssim.js' };
mkdirSync(join(root, 'dist/esm/compat'), { recursive: true });
for (const [esm, cjs] of Object.entries(entries)) {
  const mod = require(join(root, 'dist/cjs', cjs));
  const names = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule');
  const lines = [
    `import cjs from '${esm.includes('/') ? '../../' : '../'}cjs/${cjs}';`,
    `export const { ${names.join(', ')} } = cjs;`,
    // A module with its own default export (iqa-node/ssim.js) gives that as the ESM default.
    mod.__esModule && 'default' in mod ? `export default cjs.default;` : `export default cjs;`,
    '',
  ];
  writeFileSync(join(root, 'dist/esm', esm), lines.join('\n'));
}
