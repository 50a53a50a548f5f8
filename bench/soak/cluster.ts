/**
 * The soak's own PostgreSQL cluster (the default; SOAK_SERVER=shared uses BENCH_DATABASE_URL instead).
 *
 * Why: the shared server here runs with `autovacuum = off` (/etc/postgresql/15/main/conf.d/90-ci.conf,
 * a CI setting), and a soak whose question is whether autovacuum keeps the job table flat cannot
 * answer it on a server where autovacuum never runs. So the soak initdb's a cluster of its own with
 * PostgreSQL's stock settings (autovacuum on, naptime 1 min, scale factor 0.2, fsync on), on a
 * random port, and removes it at the end. Needs root (the server runs as the postgres user) and
 * the server binaries at PG_BIN (default /usr/lib/postgresql/15/bin).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export class SoakCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'doctor-job-soak-pg-'));
  port = 40_000 + Math.floor(Math.random() * 20_000);
  private running = false;

  /** The admin URL (database postgres). */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Server settings on top of the stock ones (`-c name=value` each), e.g. SOAK_PG_OPTS="-c autovacuum_naptime=15s". */
  constructor(private readonly options = '') {}

  start(): void {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString());
    chownSync(this.dir, id('-u'), id('-g'));
    this.as('initdb', '-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync');
    for (let attempt = 1; ; attempt++) {
      try {
        this.as('pg_ctl', '-D', this.data, '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c log_autovacuum_min_duration=0 ${this.options}`, '-l', this.log, '-w', 'start');
        this.running = true;
        return;
      } catch (error) {
        const log = existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
        if (attempt < 3 && /Address already in use|could not bind/i.test(log)) {
          this.port = 40_000 + Math.floor(Math.random() * 20_000);
          continue;
        }
        throw new Error(`the soak's PostgreSQL cluster did not start: ${(error as Error).message}\n${log}`);
      }
    }
  }

  /**
   * The server log's report of each autovacuum of `table` (log_autovacuum_min_duration = 0 logs
   * every one): when it ran and what it found. PostgreSQL 15's wording.
   */
  autovacuums(table: string): AutovacuumLog[] {
    if (!existsSync(this.log)) return [];
    const lines = readFileSync(this.log, 'utf8').split('\n');
    const runs: AutovacuumLog[] = [];
    for (let i = 0; i < lines.length; i++) {
      const head = /^(\S+ \S+) \S+ \[\d+\] LOG:  automatic vacuum of table "[^"]*\.([^".]+)"/.exec(lines[i]);
      if (!head || head[2] !== table) continue;
      // The report's lines up to the next log line of the server.
      let end = i + 1;
      while (end < lines.length && !/^\S+ \S+ \S+ \[\d+\] /.test(lines[end])) end++;
      const text = lines.slice(i, end).join('\n');
      const tuples = /tuples: (\d+) removed, (\d+) remain, (\d+) are dead but not yet removable/.exec(text);
      const pages = /pages: (\d+) removed, (\d+) remain/.exec(text);
      const elapsed = /system usage: .*elapsed: ([\d.]+) s/.exec(text);
      runs.push({
        at: new Date(head[1].replace(' ', 'T') + 'Z').getTime(),
        removed: tuples ? Number(tuples[1]) : null,
        remain: tuples ? Number(tuples[2]) : null,
        notRemovable: tuples ? Number(tuples[3]) : null,
        pagesRemoved: pages ? Number(pages[1]) : null,
        pagesRemain: pages ? Number(pages[2]) : null,
        elapsedS: elapsed ? Number(elapsed[1]) : null,
      });
    }
    return runs;
  }

  stop(): void {
    if (this.running) {
      try {
        this.as('pg_ctl', '-D', this.data, '-m', 'fast', '-w', 'stop');
      } catch {
        // already stopped
      }
      this.running = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get data(): string {
    return join(this.dir, 'data');
  }
  private get log(): string {
    return join(this.dir, 'server.log');
  }
  private as(command: string, ...args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, command), ...args], { stdio: 'pipe' });
  }
}

/** One autovacuum of a table, from the server log. */
export interface AutovacuumLog {
  /** Wall time (ms) of the log line, the end of the run. */
  at: number;
  /** Dead row versions removed, live ones left, dead ones that a snapshot still needed. */
  removed: number | null;
  remain: number | null;
  notRemovable: number | null;
  /** Heap pages truncated away at the end of the table, and the pages left. */
  pagesRemoved: number | null;
  pagesRemain: number | null;
  elapsedS: number | null;
}
