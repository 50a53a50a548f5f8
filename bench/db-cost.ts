/**
 * The database's cost per job (issue 15 item 3): WAL bytes, shared buffers touched and statements
 * run, read before and after a workload, and the queue's tables after a drain.
 *
 * The figures come from a private PostgreSQL cluster that the bench starts (`startPrivateCluster`)
 * with pg_stat_statements loaded, so no other traffic reaches its cluster-wide counters (WAL). The
 * workers connect as a role of their own (`WORKER_ROLE`), so the orchestrator's own queries (the
 * queue counts it polls, these snapshots) are left out of the per-statement figures; the
 * snapshots themselves run in the `postgres` database, which no workload uses.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';

/** The role the worker processes connect as on the private cluster (a superuser, like the orchestrator's). */
export const WORKER_ROLE = 'bench_worker';

const PG_BIN = process.env.BENCH_PG_BIN || '/usr/lib/postgresql/15/bin';

export interface PrivateCluster {
  url: string;
  port: number;
  dir: string;
  settings: string[];
  stop(): void;
}

/** Whether this machine can start a private cluster: root (to run initdb as postgres) and the server's binaries. */
export function canStartPrivateCluster(): boolean {
  return process.getuid?.() === 0 && existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * initdb in a temporary directory (owned by postgres), started on a free port with
 * pg_stat_statements. No checkpoint falls inside a workload (checkpoint_timeout 1 h, max_wal_size
 * 8 GB): the bench runs CHECKPOINT before each enqueue, so which pages get a full-page image is
 * the same in every run. Autovacuum is off: the bench's VACUUM ANALYZE before each drain is the only
 * vacuum, so the dead tuples after a drain are the drain's own.
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-job-bench-pg-'));
  const pg = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const pgGroup = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, pg, pgGroup);
  const asPostgres = (bin: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  const port = await freePort();
  const settings = [
    'shared_preload_libraries=pg_stat_statements',
    'pg_stat_statements.track=top',
    'autovacuum=off',
    'checkpoint_timeout=3600',
    'max_wal_size=8GB',
    'shared_buffers=128MB',
    'track_io_timing=off',
  ];
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...settings.map((s) => `-c ${s}`)].join(' ');
  asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-o', options, '-w', 'start']);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, port, dir, settings, stop };
}

/** Run once on the admin database: pg_stat_statements and the workers' role. */
export async function prepareCluster(admin: Client): Promise<void> {
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [WORKER_ROLE]);
  if (!rowCount) await admin.query(`CREATE ROLE ${WORKER_ROLE} LOGIN SUPERUSER`);
}

/** The same database URL, as the workers' role. */
export function asWorker(url: string): string {
  const u = new URL(url);
  u.username = WORKER_ROLE;
  return u.toString();
}

interface StatementRow {
  query: string;
  calls: number;
  hit: number;
  read: number;
  dirtied: number;
  walBytes: number;
  walRecords: number;
  walFpi: number;
  execMs: number;
}
const COUNTERS = ['calls', 'hit', 'read', 'dirtied', 'walBytes', 'walRecords', 'walFpi', 'execMs'] as const;

export interface Snapshot {
  lsn: string;
  statements: Map<string, StatementRow>;
}

/**
 * Reads the counters: the WAL position and pg_stat_statements for `database` (and `role`, when
 * given). (Not pg_stat_wal: a backend adds its WAL counts to it when it flushes its statistics, up
 * to a second later, so a VACUUM just before a snapshot may land after it.)
 */
export async function snapshot(admin: Client, database: string, role?: string): Promise<Snapshot> {
  const [{ lsn }] = (await admin.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows;
  const { rows } = await admin.query(
    `SELECT s.queryid::text AS id, s.query, s.calls::text AS calls, s.shared_blks_hit::text AS hit, s.shared_blks_read::text AS read,
            s.shared_blks_dirtied::text AS dirtied, s.wal_bytes::text AS wal, s.wal_records::text AS records, s.wal_fpi::text AS fpi,
            s.total_exec_time AS exec_ms
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
      WHERE d.datname = $1 AND ($2::text IS NULL OR r.rolname = $2::text)`,
    [database, role ?? null],
  );
  const statements = new Map<string, StatementRow>();
  for (const row of rows) {
    const key = `${row.id}`;
    const prev = statements.get(key);
    const entry: StatementRow = {
      query: row.query,
      calls: Number(row.calls),
      hit: Number(row.hit),
      read: Number(row.read),
      dirtied: Number(row.dirtied),
      walBytes: Number(row.wal),
      walRecords: Number(row.records),
      walFpi: Number(row.fpi),
      execMs: Number(row.exec_ms),
    };
    if (prev) for (const k of COUNTERS) prev[k] += entry[k];
    else statements.set(key, entry);
  }
  return { lsn, statements };
}

export interface StatementCost {
  /** The statement's normalised text, shortened. */
  query: string;
  calls: number;
  buffersPerJob: number;
  walBytesPerJob: number;
  /** Time the server spent executing it, per call (ms). */
  msPerCall: number;
}

export interface DbCost {
  jobs: number;
  /** pg_current_wal_lsn() moved this far, per job (everything the cluster wrote, commit records included). */
  walBytesPerJob: number;
  /** WAL bytes, records and full-page images the workload's statements wrote, per job (pg_stat_statements). */
  statementWalBytesPerJob: number;
  walRecordsPerJob: number;
  walFpiPerJob: number;
  /** Shared buffers hit + read by the workload's statements, per job (pg_stat_statements). */
  buffersPerJob: number;
  buffersReadPerJob: number;
  buffersDirtiedPerJob: number;
  /** Statements the workload ran (BEGIN and COMMIT included), per job. */
  statementsPerJob: number;
  /** Time the server spent executing them, per job (µs). */
  execUsPerJob: number;
  /** The statements that touched the most buffers. */
  top: StatementCost[];
}

const lsnBytes = (lsn: string) => {
  const [hi, lo] = lsn.split('/');
  return BigInt(`0x${hi}`) * 2n ** 32n + BigInt(`0x${lo}`);
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function costBetween(before: Snapshot, after: Snapshot, jobs: number, topCount = 6): DbCost {
  const sum = { calls: 0, hit: 0, read: 0, dirtied: 0, walBytes: 0, walRecords: 0, walFpi: 0, execMs: 0 };
  const per: StatementCost[] = [];
  for (const [key, a] of after.statements) {
    const b = before.statements.get(key);
    const d = { ...sum };
    for (const k of COUNTERS) d[k] = a[k] - (b?.[k] ?? 0);
    if (d.calls <= 0) continue;
    for (const k of COUNTERS) sum[k] += d[k];
    per.push({ query: a.query.replace(/\s+/g, ' ').slice(0, 140), calls: d.calls, buffersPerJob: r2((d.hit + d.read) / jobs), walBytesPerJob: r2(d.walBytes / jobs), msPerCall: r4(d.execMs / d.calls) });
  }
  per.sort((x, y) => y.buffersPerJob - x.buffersPerJob || y.walBytesPerJob - x.walBytesPerJob);
  return {
    jobs,
    walBytesPerJob: r2(Number(lsnBytes(after.lsn) - lsnBytes(before.lsn)) / jobs),
    statementWalBytesPerJob: r2(sum.walBytes / jobs),
    walRecordsPerJob: r2(sum.walRecords / jobs),
    walFpiPerJob: r4(sum.walFpi / jobs),
    buffersPerJob: r2((sum.hit + sum.read) / jobs),
    buffersReadPerJob: r2(sum.read / jobs),
    buffersDirtiedPerJob: r2(sum.dirtied / jobs),
    statementsPerJob: r4(sum.calls / jobs),
    execUsPerJob: r2((sum.execMs * 1000) / jobs),
    top: per.slice(0, topCount),
  };
}

export interface TableState {
  /** The queue's tables (every table but the bench's business table), heap + indexes + TOAST. */
  totalKb: number;
  deadTuples: number;
  liveTuples: number;
  /** The biggest of them. */
  largest: string;
}

/** The tables of the system's database after a drain (run on a connection to that database). */
export async function tableState(sql: <T>(text: string) => Promise<T[]>): Promise<TableState> {
  const rows = await sql<{ name: string; bytes: string; dead: string; live: string }>(
    `SELECT schemaname || '.' || relname AS name, pg_total_relation_size(relid)::text AS bytes, n_dead_tup::text AS dead, n_live_tup::text AS live
       FROM pg_stat_user_tables WHERE relname <> 'bench_order' ORDER BY pg_total_relation_size(relid) DESC`,
  );
  return {
    totalKb: Math.round(rows.reduce((s, r) => s + Number(r.bytes), 0) / 1024),
    deadTuples: rows.reduce((s, r) => s + Number(r.dead), 0),
    liveTuples: rows.reduce((s, r) => s + Number(r.live), 0),
    largest: rows[0] ? `${rows[0].name} ${Math.round(Number(rows[0].bytes) / 1024)} kB` : '-',
  };
}
