// Checks once whether PostgreSQL answers, and tells the test files through the environment.
// Under CI (CI=true) or with DOCTOR_JOB_REQUIRE_POSTGRES=1 an unreachable PostgreSQL fails the
// run; elsewhere the PostgreSQL suites are skipped with a warning.
const { Client } = require('pg');

module.exports = async function globalSetup() {
  const url = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  process.env.TEST_DATABASE_URL = url;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.DOCTOR_JOB_TEST_POSTGRES = 'up';
  } catch (error) {
    const required = process.env.CI === 'true' || process.env.DOCTOR_JOB_REQUIRE_POSTGRES === '1';
    if (required) {
      throw new Error(`PostgreSQL is required for the test run (CI) but ${url} does not answer: ${error.message}`);
    }
    process.env.DOCTOR_JOB_TEST_POSTGRES = 'down';
    console.warn(`\n[doctor-job] PostgreSQL at ${url} does not answer (${error.message}): PostgreSQL suites are SKIPPED.\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
};
