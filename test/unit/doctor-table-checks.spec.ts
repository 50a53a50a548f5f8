import { queueTableCheck } from '../../lib/admin/doctor-table-checks';
import type { StoreDiagnostics, TableDiagnostics } from '../../lib/store/job-store.interface';

const MB = 1024 * 1024;

function jobTable(rows: number, tableBytes: number, indexBytes: number): TableDiagnostics {
  return {
    table: 'doctor_job',
    rows,
    deadRows: 0,
    tableBytes,
    indexBytes,
    freeBytes: null,
    lastVacuum: null,
    lastAutovacuum: null,
    indexes: [{ name: 'doctor_job_pkey', bytes: indexBytes }],
  };
}
const on = (dialect: StoreDiagnostics['dialect'], table: TableDiagnostics): StoreDiagnostics => ({ dialect, tables: [table], unavailable: [] });

describe('doctor: the job table check judges index bloat (PostgreSQL indexes keep their peak size after a long transaction)', () => {
  it('warns when the indexes are over 64 MB with more than 16 kB of index per live row, and names REINDEX TABLE CONCURRENTLY', () => {
    const table = jobTable(700, 30 * MB, 80 * MB);
    const check = queueTableCheck(on('postgresql', table), table);
    expect(check.verdict).toBe('warn');
    expect(check.summary).toContain('117 kB of index per live row');
    expect(check.advice).toContain('REINDEX TABLE CONCURRENTLY doctor_job');
  });

  it('says ok for indexes under 64 MB, however few rows they serve', () => {
    const table = jobTable(700, 30 * MB, 60 * MB);
    expect(queueTableCheck(on('postgresql', table), table).verdict).toBe('ok');
  });

  it('says ok for large indexes of a large queue (a backlog is not bloat)', () => {
    const table = jobTable(1_000_000, 300 * MB, 200 * MB);
    expect(queueTableCheck(on('postgresql', table), table).verdict).toBe('ok');
  });

  it('judges index bloat on PostgreSQL only (MariaDB reports its free space in a check of its own)', () => {
    const table = jobTable(700, 30 * MB, 80 * MB);
    expect(queueTableCheck(on('mysql', table), table).verdict).toBe('ok');
  });

  it('reports heap bloat first when both the heap and the indexes are bloated', () => {
    const table = jobTable(700, 100 * MB, 80 * MB);
    const check = queueTableCheck(on('postgresql', table), table);
    expect(check.verdict).toBe('warn');
    expect(check.advice).toContain('VACUUM FULL doctor_job');
  });
});

describe('doctor: a partitioned job table (PostgreSQL)', () => {
  it('fails the job table check and says how to make it a plain table again', () => {
    const table = { ...jobTable(0, 0, 0), rows: null, partitioned: true };
    const check = queueTableCheck(on('postgresql', table), table);
    expect(check.verdict).toBe('fail');
    expect(check.summary).toBe('doctor_job is a partitioned table, so the runner does not start');
    expect(check.advice).toContain('plain table');
  });
});
