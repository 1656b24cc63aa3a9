// Where deep models live on disk: IQA_MODEL_DIR (a path list), then the per-user cache, then the
// package's own models/. A model NAME is `<dir>/<NAME>.json`, `<dir>/<NAME>/manifest.json` or
// `<dir>/<NAME>/<NAME>.json` (what tools/export/ scripts write) in the first dir that has one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
    const p = findManifestIn(dir, name);
    if (p) return p;
  }
  return undefined;
}

/** A model manifest found on disk by name (what `iqa models` lists besides the registry's cards). */
export interface InstalledManifest {
  name: string;
  path: string;
  task?: string;
  /** 'face' for a face-quality descriptor (lib/face/manifest.ts), absent for a model manifest. */
  kind?: string;
  description?: string;
}

/** Reads the manifest-shaped JSON at `path` (schemaVersion + model.file or features.file), or undefined. */
function peekManifest(path: string): { task?: string; kind?: string; description?: string } | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { schemaVersion?: unknown; model?: { file?: unknown }; features?: { file?: unknown }; task?: unknown; kind?: unknown; description?: unknown };
    // An image or face model names model.file; a video model features.file.
    if (typeof m.schemaVersion !== 'number' || (typeof m.model?.file !== 'string' && typeof m.features?.file !== 'string')) return undefined;
    return {
      task: typeof m.task === 'string' ? m.task : undefined,
      ...(typeof m.kind === 'string' ? { kind: m.kind } : {}),
      description: typeof m.description === 'string' ? m.description : undefined,
    };
  } catch {
    return undefined; // unreadable or not JSON: not a manifest
  }
}

/** Every model name in the model directories, first directory winning (the same order findManifest uses). */
export function installedManifests(): InstalledManifest[] {
  const seen = new Map<string, InstalledManifest>();
  for (const dir of modelDirs()) {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // a listed directory that does not exist yet
    }
    for (const e of entries) {
      const name = e.isFile() && e.name.endsWith('.json') ? e.name.slice(0, -5) : e.isDirectory() ? e.name : undefined;
      if (!name || !isModelName(name) || seen.has(name)) continue;
      const path = findManifestIn(dir, name);
      const m = path ? peekManifest(path) : undefined;
      if (path && m) seen.set(name, { name, path, ...m });
    }
  }
  return [...seen.values()];
}

export function findManifestIn(dir: string, name: string): string | undefined {
  return manifestCandidates(dir, name).find((p) => existsSync(p));
}

function manifestCandidates(dir: string, name: string): string[] {
  return [join(dir, `${name}.json`), join(dir, name, 'manifest.json'), join(dir, name, `${name}.json`)];
}
