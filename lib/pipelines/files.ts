import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.bmp', '.dib', '.tif', '.tiff', '.webp', '.pgm', '.ppm', '.pbm', '.pnm', '.jp2', '.exr', '.hdr', '.pic']);

/**
 * Expands files and folders (recursively, image extensions only, sorted) in argument order.
 * A path that does not exist is yielded as is, so that scoring records its error.
 */
export async function* expandPaths(paths: readonly string[]): AsyncGenerator<string> {
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      yield p;
      continue;
    }
    if (!s.isDirectory()) {
      yield p;
      continue;
    }
    yield* walk(p);
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) yield full;
  }
}
