// The example server (examples/server/server.mjs) in a child process on 127.0.0.1, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './helpers';

export const SERVER = join(ROOT, 'examples/server/server.mjs');

export interface Running {
  base: string;
  child: ChildProcess;
  /** The server's stdout lines after {"listening"} ({"draining"}, {"drained"}). */
  lines: string[];
  stop(): Promise<void>;
}

/** Starts the example server on 127.0.0.1:0 with the given environment; resolves once it listens. */
export async function startServer(env: Record<string, string>, script = SERVER): Promise<Running> {
  const child = spawn(process.execPath, [script, '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, IQA_LOG: '0', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const later: string[] = [];
  const base = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    lines.on('line', (l) => {
      later.push(l);
      try {
        const j = JSON.parse(l);
        if (j.listening) resolve(j.listening);
      } catch {
        /* not our line */
      }
    });
  });
  return {
    base,
    child,
    lines: later,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export interface Res {
  status: number;
  type: string;
  json: any;
  text: string;
}

export async function call(url: string, init?: RequestInit): Promise<Res> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', json, text };
}
