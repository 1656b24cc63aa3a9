import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IqaError } from '../../core/errors';

/** Lists a folder once, for case-insensitive look-ups (TID2013 mixes .bmp and .BMP). */
export class FolderIndex {
  private readonly cache = new Map<string, Map<string, string> | null>();

  /** Path of `name` inside `dir`, matching case-insensitively; undefined when absent. */
  find(dir: string, name: string): string | undefined {
    const exact = join(dir, name);
    if (existsSync(exact)) return exact;
    const sub = dirname(name);
    const folder = sub === '.' ? dir : join(dir, sub);
    let entries = this.cache.get(folder);
    if (entries === undefined) {
      try {
        entries = new Map(readdirSync(folder).map((f) => [f.toLowerCase(), join(folder, f)]));
      } catch {
        entries = null;
      }
      this.cache.set(folder, entries);
    }
    return entries?.get(basename(name).toLowerCase());
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The first existing folder among candidates, else the first candidate. */
export function firstFolder(candidates: string[]): string {
  return candidates.find(isDirectory) ?? candidates[0];
}

export function missingError(missing: string[], folder: string, total: number): IqaError {
  const shown = missing.slice(0, 20).map((m) => `  ${m}`).join('\n');
  const more = missing.length > 20 ? `\n  ... and ${missing.length - 20} more` : '';
  return new IqaError('ERR_INPUT', `${missing.length} of ${total} labelled images are missing under ${folder} (use skipMissing / --skip-missing to leave them out):\n${shown}${more}`);
}
