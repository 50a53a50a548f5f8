import { claimToken } from '../../lib/store/claim-token';
import { createDatabase, DIALECTS, installPackedApp, run, serverUp, type CliDatabase, type Dialect, type InstalledApp } from './support';

// The console commands of the `doctor-job` bin as users get it (packed, npm-installed, spawned):
// stats, jobs, dead-letters, pause/resume, doctor, on every dialect, with --json and as tables.
jest.setTimeout(90_000);

let app: InstalledApp;

beforeAll(() => {
  app = installPackedApp();
}, 240_000);

afterAll(() => app?.dispose());

const cli = (args: string[], env: Record<string, string | undefined> = {}) => run(process.execPath, [app.bin, ...args], app.dir, env);

/** An expected refusal: the exit code, one line on stderr, no stack trace. */
function expectOneLine(result: { status: number | null; stderr: string }, status: number, pattern: RegExp) {
  expect(result.status).toBe(status);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** The database's now, plus `sql` (an interval in the dialect's syntax). */
const later: Record<Dialect, string> = {
  postgresql: `now() + interval '1 hour'`,
  mysql: 'UTC_TIMESTAMP(3) + INTERVAL 1 HOUR',
  sqlite: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 hour')`,
};
const longAgo: Record<Dialect, string> = {
  postgresql: `now() - interval '2 days'`,
  mysql: 'UTC_TIMESTAMP(3) - INTERVAL 2 DAY',
  sqlite: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')`,
};

/** A type whose name would clear the screen if printed as it is. */
const EVIL = 'evil\u001b[2J\u001b[31mred';

/**
 * Jobs and dead letters written with SQL, as an app's runner would leave them: a due job with
 * keys, a scheduled one (waiting to retry), a running one held by an instance, a job of an evil
 * type; dead letters of two types (one failed two days ago) with the attempt history of one.
 */
async function seed(db: CliDatabase): Promise<void> {
  const d = db.dialect;
  // MariaDB quotes identifiers with backticks: outside string literals only.
  const q = (sql: string) => (d === 'mysql' ? sql.split(/('(?:[^']|'')*')/).map((part, i) => (i % 2 ? part : part.replace(/"/g, '`'))).join('') : sql);
  await db.query(q(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "ordering_key", "dedup_key") VALUES ('mail', '{"to":"ada@example.com"}', 5, 'client-1', 'welcome-1')`));
  await db.query(q(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "run_at", "attempts", "last_error") VALUES ('mail', '{"to":"bob@example.com"}', 5, ${later[d]}, 1, 'SMTP 421')`));
  await db.query(
    q(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "attempts", "locked_until", "claim_token") VALUES ('report', '{}', 3, 1, ${later[d]}, '${claimToken('a1b2c3d4')}')`),
  );
  // The runner that holds it, as it registers itself at start (its claim tokens carry its key).
  await db.query(q(`INSERT INTO "doctor_job_instance" ("instance_key", "name") VALUES ('a1b2c3d4', 'web-1:4242:a1b2c3d4')`));
  await db.query(q(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ('${EVIL}', '{}', 3)`));
  await db.query(
    q(`INSERT INTO "doctor_job_dead_letter" ("job_id", "type", "payload", "attempts", "max_attempts", "error_message", "error_stack", "created_at", "failed_at", "reason")
       VALUES (9001, 'mail', '{"to":"eve@example.com"}', 2, 2, 'mailbox full', 'Error: mailbox full\n    at send (mail.ts:1:1)', ${longAgo[d]}, ${longAgo[d]}, 'failed')`),
  );
  await db.query(
    q(`INSERT INTO "doctor_job_dead_letter" ("job_id", "type", "payload", "attempts", "max_attempts", "error_message", "created_at", "failed_at", "reason")
       VALUES (9002, 'report', '{}', 1, 3, 'no handler', ${longAgo[d]}, ${longAgo[d]}, 'no-handler')`),
  );
  await db.query(q(`INSERT INTO "doctor_job_attempt" ("job_id", "run_job_id", "attempt", "error_message") VALUES (9001, 9001, 1, 'timeout'), (9001, 9001, 2, 'mailbox full')`));
}

for (const dialect of DIALECTS) {
  (serverUp(dialect) ? describe : describe.skip)(`doctor-job console on ${dialect}`, () => {
    let db: CliDatabase;
    let env: Record<string, string>;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      db = await createDatabase(dialect, app.dir);
      env = { DATABASE_URL: db.url };
      const migrated = await cli(['migrate'], env);
      expect(migrated.status).toBe(0);
      await seed(db);
      const listed = JSON.parse((await cli(['jobs', 'list', '--json'], env)).stdout);
      for (const job of listed.items) ids[job.type === 'mail' ? (job.state === 'due' ? 'due' : 'scheduled') : job.type === 'report' ? 'running' : 'evil'] = job.id;
      const letters = JSON.parse((await cli(['dead-letters', 'list', '--json'], env)).stdout);
      for (const letter of letters.items) ids[`letter-${letter.type}`] = letter.id;
    });
    afterAll(() => db?.dispose());

    it('stats: per type due, scheduled, running, dead letters (JSON and a table)', async () => {
      const result = await cli(['stats', '--json'], env);
      expect(result.status).toBe(0);
      const stats = JSON.parse(result.stdout);
      expect(stats.types).toEqual([
        expect.objectContaining({ type: EVIL, due: 1, scheduled: 0, running: 0, deadLetters: 0, paused: false }),
        expect.objectContaining({ type: 'mail', due: 1, scheduled: 1, running: 0, deadLetters: 1 }),
        expect.objectContaining({ type: 'report', due: 0, scheduled: 0, running: 1, deadLetters: 1 }),
      ]);
      expect(stats.totals).toEqual({ due: 2, scheduled: 1, running: 1, total: 4, deadLetters: 2 });

      const text = await cli(['stats', '--url', db.url]);
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^TYPE\s+DUE\s+SCHEDULED\s+RUNNING\s+PAUSED\s+DEAD\s+OLDEST DUE\n/);
      expect(text.stdout).toMatch(/\nmail\s+1\s+1\s+0\s+1\s+\d+/);
      expect(text.stdout).toMatch(/\nreport\s+0\s+0\s+1\s+1\n/);
      // A job's text is shown, never run by the terminal.
      expect(text.stdout).not.toContain('\u001b');
      expect(text.stdout).toContain('evil\\u001b[2J\\u001b[31mred');
    });

    it('jobs list: by state, type and keys, paged; running jobs with the instance that holds them; jobs show: one in full', async () => {
      const all = JSON.parse((await cli(['jobs', 'list', '--json'], env)).stdout);
      expect(all.items.map((j: { state: string }) => j.state)).toEqual(['due', 'scheduled', 'running', 'due']);
      expect(all.nextCursor).toBeNull();
      const running = JSON.parse((await cli(['jobs', 'list', '--state', 'running', '--json'], env)).stdout).items;
      expect(running).toEqual([expect.objectContaining({ id: ids.running, type: 'report', lockedBy: 'web-1:4242:a1b2c3d4', claimedAt: expect.any(String), attempts: 1 })]);
      const keyed = JSON.parse((await cli(['jobs', 'list', '--ordering-key', 'client-1', '--json'], env)).stdout).items;
      expect(keyed.map((j: { id: string }) => j.id)).toEqual([ids.due]);
      expect(JSON.parse((await cli(['jobs', 'list', '--dedup-key', 'welcome-1', '--state', 'scheduled', '--json'], env)).stdout).items).toEqual([]);
      const mail = JSON.parse((await cli(['jobs', 'list', '--type', 'mail', '--limit', '1', '--json'], env)).stdout);
      expect(mail.items.map((j: { id: string }) => j.id)).toEqual([ids.due]);
      expect(mail.nextCursor).toBe(ids.due);
      const next = JSON.parse((await cli(['jobs', 'list', '--type', 'mail', '--limit', '1', '--cursor', mail.nextCursor, '--json'], env)).stdout);
      expect(next.items.map((j: { id: string }) => j.id)).toEqual([ids.scheduled]);

      const table = await cli(['jobs', 'list', '--limit', '3'], env);
      expect(table.status).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATE\s+ATTEMPTS\s+RUN AT\s+HELD BY\s+KEYS\s+LAST ERROR$/);
      expect(lines[1]).toMatch(new RegExp(`^${ids.due}\\s+mail\\s+due\\s+0/5\\s+.*order:client-1 dedup:welcome-1`));
      expect(lines[2]).toMatch(new RegExp(`^${ids.scheduled}\\s+mail\\s+scheduled\\s+1/5\\s+in (59|60) min\\s+SMTP 421`));
      expect(lines[3]).toMatch(new RegExp(`^${ids.running}\\s+report\\s+running\\s+1/3\\s+.*web-1:4242:a1b2c3d4 \\(`));
      expect(lines[4]).toBe(`More: --cursor ${ids.running}`);

      const shown = JSON.parse((await cli(['jobs', 'show', ids.scheduled, '--json'], env)).stdout);
      expect(shown).toMatchObject({ id: ids.scheduled, payload: { to: 'bob@example.com' }, attempts: 1, maxAttempts: 5, lastError: 'SMTP 421', state: 'scheduled', history: [] });
      const text = await cli(['jobs', 'show', ids.running], env);
      expect(text.stdout).toMatch(/^Job\s+\d+\nType\s+report\nState\s+running\n/);
      expect(text.stdout).toMatch(/Lease\s+held by web-1:4242:a1b2c3d4 since \d{4}-/);
      expect(text.stdout).toContain('Payload:\n    {}\n');

      expectOneLine(await cli(['jobs', 'show', '999999'], env), 1, /^doctor-job: No job in the queue has the id 999999; nothing was changed\.$/);
      expectOneLine(await cli(['jobs', 'show', 'abc'], env), 2, /^doctor-job: id must be a job id \(a string of digits/);
      expectOneLine(await cli(['jobs', 'list', '--state', 'done'], env), 2, /state must be one of due, scheduled, running, got "done"/);
      expectOneLine(await cli(['jobs', 'list', '--limit', 'many'], env), 2, /--limit must be a whole number/);
    });

    it('jobs cancel / run-now: a running job is refused (exit 1, nothing changed); queued ones act, all or nothing', async () => {
      expectOneLine(await cli(['jobs', 'cancel', ids.due, ids.running], env), 1, new RegExp(`^doctor-job: Job ${ids.running} is running \\(held by a worker under a live lease\\)`));
      expectOneLine(await cli(['jobs', 'cancel', ids.due, '999999'], env), 1, /No job in the queue has the id 999999/);
      expect(JSON.parse((await cli(['jobs', 'list', '--json'], env)).stdout).items).toHaveLength(4);

      const now = await cli(['jobs', 'run-now', ids.scheduled, ids.due, '--json'], env);
      expect(now.status).toBe(0);
      expect(JSON.parse(now.stdout)).toEqual({ count: 1, jobIds: [ids.scheduled], alreadyDue: [ids.due] });
      expect(JSON.parse((await cli(['jobs', 'show', ids.scheduled, '--json'], env)).stdout).state).toBe('due');

      const cancelled = await cli(['jobs', 'cancel', ids.evil, '--message', 'not ours'], env);
      expect(cancelled.status).toBe(0);
      expect(cancelled.stdout).toBe(`Cancelled 1 job: ${ids.evil} (now dead letters with reason "cancelled").\n`);
      const letters = JSON.parse((await cli(['dead-letters', 'list', '--reason', 'cancelled', '--json'], env)).stdout).items;
      expect(letters).toEqual([expect.objectContaining({ jobId: ids.evil, type: EVIL, reason: 'cancelled', errorMessage: 'not ours' })]);
      ids['letter-evil'] = letters[0].id;
    });

    it('dead-letters list / show: by type, reason and time; the error, stack and every failed attempt', async () => {
      const old = JSON.parse((await cli(['dead-letters', 'list', '--failed-before', '1d', '--json'], env)).stdout).items;
      expect(old.map((l: { id: string }) => l.id).sort()).toEqual([ids['letter-mail'], ids['letter-report']].sort());
      const recent = JSON.parse((await cli(['dead-letters', 'list', '--failed-after', '1h', '--json'], env)).stdout).items;
      expect(recent.map((l: { id: string }) => l.id)).toEqual([ids['letter-evil']]);
      const reason = JSON.parse((await cli(['dead-letters', 'list', '--reason', 'no-handler', '--json'], env)).stdout).items;
      expect(reason.map((l: { id: string }) => l.id)).toEqual([ids['letter-report']]);

      const table = await cli(['dead-letters', 'list', '--type', 'mail'], env);
      expect(table.stdout).toMatch(/^ID\s+JOB\s+TYPE\s+REASON\s+ATTEMPTS\s+FAILED\s+ERROR\n/);
      expect(table.stdout).toMatch(new RegExp(`\\n${ids['letter-mail']}\\s+9001\\s+mail\\s+failed\\s+2/2\\s+2 d ago\\s+mailbox full\\n$`));

      const shown = JSON.parse((await cli(['dead-letters', 'show', ids['letter-mail'], '--json'], env)).stdout);
      expect(shown).toMatchObject({ jobId: '9001', reason: 'failed', errorStack: 'Error: mailbox full\n    at send (mail.ts:1:1)', payload: { to: 'eve@example.com' } });
      expect(shown.history.map((a: { attempt: number; errorMessage: string }) => [a.attempt, a.errorMessage])).toEqual([
        [1, 'timeout'],
        [2, 'mailbox full'],
      ]);
      const text = (await cli(['dead-letters', 'show', ids['letter-mail']], env)).stdout;
      expect(text).toMatch(/Reason\s+failed\n/);
      expect(text).toContain('Stack:\n    Error: mailbox full\n        at send (mail.ts:1:1)\n');
      expect(text).toMatch(/History \(2 failed attempts\):\n\s+JOB\s+ATTEMPT\s+FAILED AT\s+ERROR\n\s+9001\s+1\s+.*timeout\n\s+9001\s+2\s+.*mailbox full\n/);
      expectOneLine(await cli(['dead-letters', 'show', '999999'], env), 1, /No dead letter has the id 999999/);
      expectOneLine(await cli(['dead-letters', 'list', '--reason', 'bored'], env), 2, /reason must be one of failed, non-retryable/);
      expectOneLine(await cli(['dead-letters', 'list', '--failed-before', 'tuesday'], env), 2, /--failed-before must be a time/);
    });

    it('dead-letters replay / delete: one id, a filter, or --all, with the count; nothing without a selection', async () => {
      expectOneLine(await cli(['dead-letters', 'replay'], env), 2, /which dead letters\? give ids, a filter .* or --all/);
      expectOneLine(await cli(['dead-letters', 'delete', '--all', '--type', 'mail'], env), 2, /--all selects every dead letter/);
      expectOneLine(await cli(['dead-letters', 'replay', ids['letter-mail'], '--type', 'mail'], env), 2, /give dead letter ids or a filter \(or --all\), not both/);
      expectOneLine(await cli(['dead-letters', 'replay', ids['letter-mail'], '999999'], env), 1, /No dead letter has the id 999999: it may have been replayed \(its job is back in the queue, under a new id\) or deleted already; nothing was changed/);

      const replayed = await cli(['dead-letters', 'replay', ids['letter-mail'], '--json'], env);
      expect(replayed.status).toBe(0);
      const { count, jobIds } = JSON.parse(replayed.stdout);
      expect(count).toBe(1);
      const job = JSON.parse((await cli(['jobs', 'show', jobIds[0], '--json'], env)).stdout);
      expect(job).toMatchObject({ type: 'mail', state: 'due', attempts: 0, replayOf: '9001', payload: { to: 'eve@example.com' } });
      expect(job.history.map((a: { errorMessage: string }) => a.errorMessage)).toEqual(['timeout', 'mailbox full']);

      const byReason = await cli(['dead-letters', 'replay', '--reason', 'cancelled'], env);
      expect(byReason.stdout).toMatch(/^Replayed 1 dead letter; new job ids: \d+\.\n$/);
      const none = await cli(['dead-letters', 'delete', '--type', 'mail', '--json'], env);
      expect(JSON.parse(none.stdout)).toEqual({ count: 0 });
      const all = await cli(['dead-letters', 'delete', '--all'], env);
      expect(all.stdout).toBe('Deleted 1 dead letter.\n');
      expect(JSON.parse((await cli(['dead-letters', 'list', '--json'], env)).stdout).items).toEqual([]);
    });

    it('pause / resume a type: kept in the database, shown by stats', async () => {
      const paused = await cli(['pause', 'mail'], env);
      expect(paused.status).toBe(0);
      expect(paused.stdout).toBe('Paused mail: no runner claims it from its next poll on; its jobs stay queued.\n');
      expect(JSON.parse((await cli(['pause', 'mail', '--json'], env)).stdout)).toEqual({ type: 'mail', paused: true, changed: false });
      const stats = JSON.parse((await cli(['stats', '--json'], env)).stdout);
      expect(stats.paused).toEqual([{ type: 'mail', pausedAt: expect.any(String) }]);
      expect(stats.types.find((t: { type: string }) => t.type === 'mail')).toMatchObject({ paused: true });
      expect((await cli(['stats'], env)).stdout).toMatch(/\nmail\s+\d+\s+\d+\s+\d+\s+yes \(/);
      expect((await cli(['resume', 'mail'], env)).stdout).toBe('Resumed mail: runners claim it again from their next poll.\n');
      expect((await cli(['resume', 'mail'], env)).stdout).toBe('mail was not paused.\n');
      expect(JSON.parse((await cli(['stats', '--json'], env)).stdout).paused).toEqual([]);
    });

    it('doctor: each check with a verdict; a pending migration fails the schema check (exit 1)', async () => {
      const result = await cli(['doctor', '--json'], env);
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({ dialect, verdict: expect.stringMatching(/^(ok|warn|unknown)$/) });
      const byId = Object.fromEntries(report.checks.map((c: { id: string }) => [c.id, c]));
      expect(byId.schema).toMatchObject({ verdict: 'ok', summary: expect.stringMatching(/^all \d+ Doctor Job migrations applied$/) });
      expect(byId['queue-table'].summary).toMatch(/rows/);
      expect(byId['oldest-due'].verdict).toMatch(/^(ok|warn)$/);
      expect(byId.paused).toMatchObject({ verdict: 'ok', summary: 'none' });
      if (dialect !== 'sqlite') expect(byId.horizon.verdict).toMatch(/^(ok|warn|fail|unknown)$/);
      expect(report.diagnostics.tables.find((t: { table: string }) => t.table === 'doctor_job')).toBeDefined();

      const text = await cli(['doctor'], env);
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^Doctor Job on .+ \(\w+\), \d{4}-/);
      expect(text.stdout).toMatch(/\nok\s+Schema and migrations: all \d+ Doctor Job migrations applied\n/);
      expect(text.stdout).toMatch(/\nok\s+The job table \(doctor_job\): /);
      expect(text.stdout).toMatch(/checks ok\.\n$|of \d+ checks\.\n$/);

      await db.query(`DELETE FROM _prisma_migrations WHERE migration_name LIKE '%_doctor_job_admin'`);
      const pending = await cli(['doctor'], env);
      expect(pending.status).toBe(1);
      expect(pending.stdout).toMatch(/\nFAIL\s+Schema and migrations: 1 of \d+ migrations pending: \d+_doctor_job_admin\n\s+what to do: run `npx doctor-job migrate`/);
    });
  });
}
