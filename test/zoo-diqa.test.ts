// DIQA (Kim et al., TNNLS 2019) cannot be built faithfully here (models/zoo/diqa.json says why):
// the row stays in the registry and the README, and naming the metric gives that reason.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IqaError, registryCards, resolveMetric } from '../dist/cjs/index.js';
import { ROOT } from './helpers';

describe('diqa (unavailable, with the reason)', () => {
  it('is listed with the reason, and naming it is ERR_INPUT saying why', () => {
    const card = registryCards().find((c) => c.name === 'diqa');
    expect(card?.available).toMatch(/two simple handcrafted features/);
    expect(card?.commercialUse).toBe(false);
    let e: unknown;
    try {
      resolveMetric('diqa');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(IqaError);
    expect((e as IqaError).code).toBe('ERR_INPUT');
    expect((e as IqaError).message).toMatch(/'diqa' cannot be used here: no authors' code or weights/);
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cjs/cli/index.js'), 'score', '--metric', 'diqa', join(ROOT, 'test/fixtures/patch-images/exact-96x64.png')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_INPUT|cannot be used here/);
  });
});
