// Codec warnings on files that still decode (libjpeg "Corrupt JPEG data: ...", libpng ancillary
// CRC errors): never on stderr; scored by default; with failOn 'warning' an ERR_DECODE whose
// message carries the codec's words, from the API, a pipeline and the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IqaError, brisque, scoreFiles, sharpness } from '../lib';
import { ROOT } from './helpers';

const jpeg = readFileSync(join(ROOT, 'test/fixtures/images/rgb8.jpg'));
const png = readFileSync(join(ROOT, 'test/fixtures/images/rgb8.png'));
// Stray bytes before the end-of-image marker: libjpeg warns and decodes every pixel.
const jpegWithStrayBytes = Buffer.concat([jpeg.subarray(0, jpeg.length - 2), Buffer.from([1, 2, 3]), jpeg.subarray(jpeg.length - 2)]);
// A tEXt chunk with a wrong CRC after IHDR: libpng warns and skips the chunk.
function pngWithBadTextCrc(): Buffer {
  const text = Buffer.from('Comment\0hello', 'latin1');
  const chunk = Buffer.alloc(12 + text.length);
  chunk.writeUInt32BE(text.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  text.copy(chunk, 8);
  chunk.writeUInt32BE(0xdeadbeef, 8 + text.length);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

describe("codec warnings and failOn 'warning'", () => {
  for (const [name, clean, warned, words] of [
    ['JPEG with stray bytes before EOI', jpeg, jpegWithStrayBytes, /JPEG: Corrupt JPEG data: \d+ extraneous bytes before marker 0xd9/],
    ['PNG with a bad tEXt CRC', png, pngWithBadTextCrc(), /PNG: tEXt: CRC error/],
  ] as const) {
    it(`${name}: scored like the clean file by default, ERR_DECODE with the codec's message under failOn 'warning'`, async () => {
      expect(await sharpness(warned)).toBe(await sharpness(clean));
      const e = await sharpness(warned, { failOn: 'warning' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IqaError);
      expect((e as IqaError).code).toBe('ERR_DECODE');
      expect((e as IqaError).message).toMatch(words);
      // A clean file is unaffected.
      expect(await sharpness(clean, { failOn: 'warning' })).toBe(await sharpness(clean));
    });
  }

  it('batches record the warned item and go on', async () => {
    const r = await brisque.batchSettled([jpeg, jpegWithStrayBytes, png], { failOn: 'warning' });
    expect(r.errors[0]).toBeNull();
    expect(r.errors[1]?.code).toBe('ERR_DECODE');
    expect(r.errors[2]).toBeNull();
  });

  it('rejects an unknown failOn level', async () => {
    await expect(sharpness(jpeg, { failOn: 'truncated' as 'warning' })).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });

  it('scoreFiles and `iqa score --fail-on warning` make it a per-file error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-warn-'));
    const files = [join(dir, 'clean.jpg'), join(dir, 'stray.jpg')];
    writeFileSync(files[0], jpeg);
    writeFileSync(files[1], jpegWithStrayBytes);
    const records = [];
    for await (const r of scoreFiles(files, sharpness, { failOn: 'warning' })) records.push(r);
    expect(records.map((r) => r.error?.code ?? 'ok').sort()).toEqual(['ERR_DECODE', 'ok']);

    const cli = join(ROOT, 'dist/cjs/cli/index.js');
    const run = (...extra: string[]) => spawnSync(process.execPath, [cli, 'score', '--metric', 'sharpness', '--format', 'jsonl', ...extra, ...files], { encoding: 'utf8' });
    const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score?: number; error?: { code: string; message: string } });
    const strict = lines(run('--fail-on', 'warning').stdout);
    expect(strict.find((l) => l.input.endsWith('stray.jpg'))?.error?.message).toMatch(/Corrupt JPEG data/);
    expect(strict.find((l) => l.input.endsWith('clean.jpg'))?.score).toBeGreaterThan(0);
    const lenient = lines(run().stdout);
    expect(lenient.every((l) => typeof l.score === 'number')).toBe(true);
  });

  it('`iqa compare --fail-on warning` exits 2 with ERR_DECODE and the codec\'s words; without it, it compares', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-warn-'));
    const [clean, stray] = [join(dir, 'clean.jpg'), join(dir, 'stray.jpg')];
    writeFileSync(clean, jpeg);
    writeFileSync(stray, jpegWithStrayBytes);
    const cli = join(ROOT, 'dist/cjs/cli/index.js');
    const run = (...extra: string[]) => spawnSync(process.execPath, [cli, 'compare', '--metric', 'ssim', ...extra, clean, stray], { encoding: 'utf8' });
    const strict = run('--fail-on', 'warning');
    expect(strict.status).toBe(2);
    expect(strict.stderr).toMatch(/ERR_DECODE: .*Corrupt JPEG data/);
    const lenient = run();
    expect(lenient.status).toBe(0);
    expect(JSON.parse(lenient.stdout).score).toBe(1); // the stray bytes change no pixel
    expect(run('--fail-on', 'never').stderr).toMatch(/ERR_INPUT/);
  });
});
