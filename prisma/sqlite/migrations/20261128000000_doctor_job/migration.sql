-- Doctor Job tables (SQLite). Generated to match prisma/sqlite/doctor-job.prisma.
-- Times are ISO-8601 text in UTC with milliseconds ("2026-11-28T07:35:00.000Z").

-- CreateTable
CREATE TABLE "doctor_job" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "ordering_key" TEXT,
    "dedup_key" TEXT,
    "run_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "locked_until" DATETIME,
    "claim_token" TEXT,
    "last_error" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- CreateTable
CREATE TABLE "doctor_job_dead_letter" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job_id" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "max_attempts" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "ordering_key" TEXT,
    "error_message" TEXT NOT NULL,
    "error_stack" TEXT,
    "created_at" DATETIME NOT NULL,
    "failed_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- CreateTable
CREATE TABLE "doctor_job_schedule" (
    "type" TEXT NOT NULL PRIMARY KEY,
    "last_tick" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "doctor_job_priority_run_at_id_idx" ON "doctor_job"("priority" DESC, "run_at", "id");

-- CreateIndex
CREATE INDEX "doctor_job_ordering_key_id_idx" ON "doctor_job"("ordering_key", "id");

-- CreateIndex
CREATE UNIQUE INDEX "doctor_job_dedup_key_key" ON "doctor_job"("dedup_key");

-- CreateIndex
CREATE INDEX "doctor_job_dead_letter_type_id_idx" ON "doctor_job_dead_letter"("type", "id");
