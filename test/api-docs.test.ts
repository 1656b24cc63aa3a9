// The API reference (README "API reference") is generated from the TypeScript declarations by
// TypeDoc (typedoc.json, `npm run docs`). Here it is built without output and with warnings as
// errors: a public type that is referenced but not exported, or a broken {@link}, fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers';

describe('API reference', () => {
  it('TypeDoc builds it from lib/ with no warnings', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], { cwd: ROOT, encoding: 'utf8' });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status).toBe(0);
  }, 120_000);
});
