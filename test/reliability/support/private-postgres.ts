import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the test's own, on its own port, so a test can stop, restart or cut
 * off the server without disturbing anything else on the shared one. Needs root (it runs the
 * server as the postgres user).
 */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'doctor-job-pg-'));
  /** A random port in 40000-59999; another one is tried when it is taken. */
  port = randomPort();

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(this.dir, uid, gid);
    this.asPostgres('initdb', '-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync');
    for (let attempt = 1; ; attempt++) {
      try {
        this.ctl('start');
        return;
      } catch (error) {
        const logFile = join(this.dir, 'server.log');
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no server log)';
        if (attempt < 3 && /Address already in use|could not bind/i.test(log)) {
          this.port = randomPort();
          continue;
        }
        throw new Error(`${(error as Error).message}\nserver log:\n${log}`);
      }
    }
  }

  /** `pg_ctl restart -m fast`: every connection is cut, the server is back a moment later. */
  restart(): void {
    this.ctl('restart', '-m', 'fast');
  }

  stop(): void {
    try {
      this.ctl('stop', '-m', 'immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new database on this cluster; returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url.replace(/\/postgres$/, `/${name}`);
  }

  private ctl(...args: string[]): void {
    this.asPostgres(
      'pg_ctl',
      '-D',
      join(this.dir, 'data'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      ...args,
    );
  }

  private asPostgres(command: string, ...args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, command), ...args], { stdio: 'pipe' });
  }
}

function randomPort(): number {
  return 40_000 + Math.floor(Math.random() * 20_000);
}
