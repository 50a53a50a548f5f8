import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../../support/wait';

const root = resolve(__dirname, '..', '..', '..');

export interface Worker {
  name: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a worker process (test/reliability/support/worker.ts) and waits until its runner runs. */
export async function startWorker(name: string, env: Record<string, string | number>): Promise<Worker> {
  const preload = env.CLOCK_OFFSET_MS ? ['-r', './test/reliability/support/skew-clock.js'] : [];
  const child = spawn(process.execPath, [...preload, '-r', '@swc-node/register', 'test/reliability/support/worker.ts'], {
    cwd: root,
    env: {
      ...process.env,
      SWC_NODE_PROJECT: 'tsconfig.sample.json',
      NO_COLOR: '1',
      WORKER_NAME: name,
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(`worker ${name} ready`, () => {
    if (gone) throw new Error(`worker ${name} exited before it was ready:\n${output}`);
    return output.includes('READY ');
  }, 60_000, 50);
  return {
    name,
    child,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}
