// Applies this app's own migrations (prisma/migrations/*/migration.sql) to the SQLite file in
// DATABASE_URL, and records each in _prisma_migrations as Prisma Migrate does: a stand-in for
// `prisma migrate deploy` where Prisma's schema engine cannot be downloaded. With the engine, use
// `prisma migrate deploy` instead. Doctor Job's own tables come from `npx doctor-job migrate`,
// which runs first (npm run db:migrate).
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const url = process.env.DATABASE_URL ?? 'file:./dev.db';
if (!url.startsWith('file:')) throw new Error(`this script applies SQLite migrations; DATABASE_URL is ${url}`);
const db = new Database(url.slice('file:'.length));
db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);

const dir = new URL('../prisma/migrations/', import.meta.url);
const seen = db.prepare('SELECT 1 FROM "_prisma_migrations" WHERE "migration_name" = ? AND "rolled_back_at" IS NULL');
const record = db.prepare(
  `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "finished_at", "applied_steps_count")
   VALUES (?, ?, ?, ?, ?, 1)`,
);
for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
  if (seen.get(entry.name)) continue;
  const sql = readFileSync(new URL(`${entry.name}/migration.sql`, dir), 'utf8');
  const startedAt = Date.now();
  db.transaction(() => {
    db.exec(sql);
    record.run(randomUUID(), createHash('sha256').update(sql).digest('hex'), entry.name, startedAt, Date.now());
  })();
  console.log(`applied ${entry.name}`);
}
db.close();
