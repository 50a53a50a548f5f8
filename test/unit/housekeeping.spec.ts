import type { IndexUpkeep } from 'doctor-job';
import { Housekeeping } from '../../lib/runner/housekeeping';

/**
 * The housekeeping's side of the index rebuilds (what it logs, and that one look runs at a time),
 * against a store that answers what it is told. What the rebuilds do on the database is tested on
 * PostgreSQL in test/integration/reindex.spec.ts.
 */
describe('Housekeeping: the index rebuilds', () => {
  const lines: { level: string; message: string }[] = [];
  const logger = {
    log: (message: string) => void lines.push({ level: 'log', message }),
    warn: (message: string) => void lines.push({ level: 'warn', message }),
    error: (message: string) => void lines.push({ level: 'error', message }),
  };
  let answers: IndexUpkeep[];
  let looks: number;
  let release: (() => void) | undefined;
  const store = {
    registerInstance: async () => undefined,
    pruneInstances: async () => 0,
    pruneAttempts: async () => 0,
    rebuildBloatedIndexes: async (): Promise<IndexUpkeep> => {
      looks++;
      if (release === undefined) await new Promise<void>((resolve) => (release = resolve));
      return answers.shift() ?? { rebuilt: [] };
    },
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  let housekeeping: Housekeeping;

  beforeEach(() => {
    lines.length = 0;
    looks = 0;
    release = () => undefined;
    answers = [];
    housekeeping = new Housekeeping(store, { key: 'k', name: 'host:1:k' }, () => 0, logger);
  });

  it('logs each rebuild, and a failed one as a warning naming the index and the error', async () => {
    answers.push({
      rebuilt: [
        { index: 'doctor_job_pkey', bytesBefore: 29_000_000, bytesAfter: 420_000, ms: 151 },
        { index: 'doctor_job_priority_run_at_id_idx', bytesBefore: 9_000_000, bytesAfter: 9_000_000, ms: 10_004, error: 'canceling statement due to lock timeout' },
      ],
    });
    housekeeping.tick();
    await settle();
    expect(lines).toEqual([
      { level: 'log', message: 'Rebuilt the bloated index doctor_job_pkey: 27.7 MB -> 0.4 MB in 151 ms (REINDEX INDEX CONCURRENTLY).' },
      {
        level: 'warn',
        message:
          'Rebuilding the bloated index doctor_job_priority_run_at_id_idx (8.6 MB) failed: canceling statement due to lock timeout. It is left as it was; the next look tries again.',
      },
    ]);
  });

  it('warns once that the rebuilds are off, and says nothing when a look was skipped for another reason', async () => {
    const off = 'index rebuilds are off: must be owner of index doctor_job_pkey (REINDEX needs the owner of the table; pass reindex: false to not try)';
    answers.push({ rebuilt: [], skipped: 'another instance is looking' }, { rebuilt: [], skipped: off }, { rebuilt: [], skipped: off });
    for (let i = 0; i < 3; i++) {
      housekeeping.tick();
      await settle();
    }
    expect(looks).toBe(3);
    expect(lines).toEqual([{ level: 'warn', message: `I${off.slice(1)}.` }]);
  });

  it('starts no second look while one is under way', async () => {
    release = undefined; // the first look waits until released
    housekeeping.tick();
    housekeeping.tick();
    housekeeping.tick();
    await settle();
    expect(looks).toBe(1);
    release!();
    await settle();
    housekeeping.tick();
    await settle();
    expect(looks).toBe(2);
  });
});
