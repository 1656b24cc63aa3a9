import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe.skipIf(!HAS_SHARED)(`iqa CLI on the calibration images ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  it('score writes one JSONL record per input, records errors and exits 1', () => {
    const r = run(['score', '--metric', 'sharpness', sharedPath('data/calibration/dist_dir'), '/does/not/exist.png']);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines.slice(0, 5).every((l) => typeof l.score === 'number' && l.metric === 'sharpness')).toBe(true);
    expect(lines[5]).toMatchObject({ input: '/does/not/exist.png', error: { code: 'ERR_INPUT' } });
  });

  it('score exits 0 when every input scores, csv has a header', () => {
    const r = run(['score', '--format', 'csv', sharedPath('data/calibration/dist_dir/I03.bmp')]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('input,metric,score,error_code,error_message');
  });

  it('compare prints {"metric","score"} JSON', () => {
    const out = execFileSync(process.execPath, [CLI, 'compare', '--metric', 'psnr', sharedPath('data/calibration/ref_dir/I03.bmp'), sharedPath('data/calibration/dist_dir/I03.bmp')], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(j.metric).toBe('psnr');
    expect(j.score).toBeCloseTo(21.11, 2); // official PSNR of I03 (results_official.csv)
  });
});

describe('iqa doctor', () => {
  it('reports versions, providers and threads as JSON', () => {
    const j = JSON.parse(execFileSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'utf8' }));
    expect(j.opencv).toMatch(/^4\./);
    expect(j.libsvm).toMatch(/^3\./);
    expect(j.onnxruntime.version).toMatch(/^1\./);
    expect(j.onnxruntime.providers).toContain('CPUExecutionProvider');
    expect(j.onnxruntime.libraryPath).toMatch(/libonnxruntime/);
    expect(j.threads.cpus).toBeGreaterThan(0);
  });

  it('reports an ORT library that cannot load instead of crashing', () => {
    const r = spawnSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, IQA_ORT_LIBRARY: '/nonexistent/libonnxruntime.so.1' } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).onnxruntime.error).toMatch(/cannot load ONNX Runtime/);
  });

  it('unknown metric is a usage error with a code', () => {
    const r = run(['score', '--metric', 'nope', 'x.png']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUT: unknown metric 'nope'/);
  });
});
