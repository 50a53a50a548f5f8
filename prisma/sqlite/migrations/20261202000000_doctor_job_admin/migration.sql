-- Doctor Job: the operator's console (admin API and CLI). The runner instances (a running job's
-- claim token names the instance that holds it and when it claimed it, so the claim writes
-- nothing more), which dead letter a job replays, why a job was dead-lettered, every failed
-- attempt's error and time, and the job types paused for every instance. Times are ISO-8601 text
-- in UTC with milliseconds.

-- AlterTable
ALTER TABLE "doctor_job" ADD COLUMN "replay_of" INTEGER;

-- AlterTable
ALTER TABLE "doctor_job_dead_letter" ADD COLUMN "reason" TEXT NOT NULL DEFAULT 'failed';

-- AlterTable
ALTER TABLE "doctor_job_dead_letter" ADD COLUMN "replay_of" INTEGER;

-- CreateTable
CREATE TABLE "doctor_job_attempt" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job_id" INTEGER NOT NULL,
    "run_job_id" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "error_message" TEXT NOT NULL,
    "error_stack" TEXT,
    "failed_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- CreateTable
CREATE TABLE "doctor_job_paused_type" (
    "type" TEXT NOT NULL PRIMARY KEY,
    "paused_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- CreateTable
CREATE TABLE "doctor_job_instance" (
    "instance_key" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "started_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    "seen_at" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- CreateIndex
CREATE INDEX "doctor_job_attempt_job_id_id_idx" ON "doctor_job_attempt"("job_id", "id");

-- CreateIndex
CREATE INDEX "doctor_job_dead_letter_job_id_idx" ON "doctor_job_dead_letter"("job_id");
