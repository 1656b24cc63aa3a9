// Where deep models live on disk: IQA_MODEL_DIR (a path list), then the per-user cache, then the
// package's own models/. A model NAME is `<dir>/<NAME>.json`, `<dir>/<NAME>/manifest.json` or
// `<dir>/<NAME>/<NAME>.json` (what tools/export/ scripts write) in the first dir that has one.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../core/native';

/** The per-user cache folder for models (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows). */
export function userModelDir(): string {
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'iqa-node', 'models');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'iqa-node', 'models');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'iqa-node', 'models');
}

/** The folders searched for a model name, in order. */
export function modelDirs(): string[] {
  const env = (process.env.IQA_MODEL_DIR ?? '').split(delimiter).filter((d) => d.length > 0);
  return [...env, userModelDir(), join(packageRoot(), 'models')];
}

/** Where `iqa models import` installs: the first IQA_MODEL_DIR entry, else the per-user cache. */
export function installModelDir(): string {
  return modelDirs()[0];
}

/** True for a bare model name (no path separators, no .json): resolved through modelDirs(). */
export function isModelName(s: string): boolean {
  return /^[a-z0-9][a-z0-9._-]*$/i.test(s) && !s.endsWith('.json');
}

/** The manifest file for a model name, or undefined when no model directory has it. */
export function findManifest(name: string): string | undefined {
  for (const dir of modelDirs()) {
    for (const p of [join(dir, `${name}.json`), join(dir, name, 'manifest.json'), join(dir, name, `${name}.json`)]) if (existsSync(p)) return p;
  }
  return undefined;
}
