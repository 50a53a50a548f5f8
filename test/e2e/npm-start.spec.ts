import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { waitFor } from '../support/wait';

const root = resolve(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

describe('npm start (the sample as its own process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-job-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the sample on a new SQLite file with no other set-up, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const file = join(dir, 'sample.db');
    // --ignore-scripts skips prestart (client generation): the test run has generated the clients.
    const child = spawn('npm', ['start', '--ignore-scripts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), DATABASE_URL: `file:${file}`, POLL_INTERVAL_MS: '100', NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    try {
      await waitFor(`the sample listening on ${port}`, () => output.includes(`Sample app on http://localhost:${port}`), 60_000, 100);
      // Without DASHBOARD_TOKEN the start-up line says the console is read-only and loopback-only.
      expect(output).toContain(`console on http://localhost:${port}/jobs: read-only, loopback clients only (set DASHBOARD_TOKEN to sign in and act)`);
      const base = `http://127.0.0.1:${port}`;
      const post = (path: string, body: unknown) =>
        fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post('/clients', { email: 'lin@example.com' })).status).toBe(201);
      expect((await post('/clients/login-link', { email: 'lin@example.com' })).status).toBe(202);
      await waitFor('the email', async () => ((await (await fetch(`${base}/emails`)).json()) as unknown[]).length === 1);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
    // The app ran its shutdown hooks (the runner stopped and said so) rather than being killed.
    // npm may exit before the node process it started has finished closing: wait for its last words.
    const stopped = /\[OutboxRunner\] Runner stopped: \d+ running handler\(s\) finished, 0 job\(s\) released\./;
    await waitFor('the runner to report its shutdown', () => stopped.test(output), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 300)); // and for the process to let go of the database
    expect(output).not.toMatch(/ERROR|Unhandled|UnhandledPromiseRejection/);

    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM "doctor_job"').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT "to" FROM "sent_email"').all()).toEqual([{ to: 'lin@example.com' }]);
    } finally {
      db.close();
    }
  });
});
