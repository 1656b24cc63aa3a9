// Runs every benchmark in bench/ (or those named on the command line) one after another.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const names = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && (names.length === 0 || names.some((n) => f.startsWith(n))));
let failed = 0;
for (const f of files.sort()) {
  console.log(`\n=== bench/${f}`);
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
