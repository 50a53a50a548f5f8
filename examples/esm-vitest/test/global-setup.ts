import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Runs once before the test files: a fresh test.db with Doctor Job's tables and the app's. */
export default function setup() {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`test.db${suffix}`, { force: true });
  // `npx doctor-job migrate` for Doctor Job's tables, then the app's own migrations.
  execFileSync('npm', ['run', '--silent', 'db:migrate'], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: 'file:./test.db' } });
}
