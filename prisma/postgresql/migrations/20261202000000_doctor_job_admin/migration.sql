-- Doctor Job: the operator's console (admin API and CLI). The runner instances (a running job's
-- claim token names the instance that holds it and when it claimed it, so the claim writes
-- nothing more), which dead letter a job replays, why a job was dead-lettered, every failed
-- attempt's error and time, and the job types paused for every instance.

-- AlterTable
ALTER TABLE "doctor_job" ADD COLUMN     "replay_of" BIGINT;

-- AlterTable
ALTER TABLE "doctor_job_dead_letter" ADD COLUMN     "reason" VARCHAR(32) NOT NULL DEFAULT 'failed',
ADD COLUMN     "replay_of" BIGINT;

-- CreateTable
CREATE TABLE "doctor_job_attempt" (
    "id" BIGSERIAL NOT NULL,
    "job_id" BIGINT NOT NULL,
    "run_job_id" BIGINT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "error_message" TEXT NOT NULL,
    "error_stack" TEXT,
    "failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doctor_job_attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "doctor_job_paused_type" (
    "type" VARCHAR(255) NOT NULL,
    "paused_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doctor_job_paused_type_pkey" PRIMARY KEY ("type")
);

-- CreateTable
CREATE TABLE "doctor_job_instance" (
    "instance_key" VARCHAR(8) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doctor_job_instance_pkey" PRIMARY KEY ("instance_key")
);

-- CreateIndex
CREATE INDEX "doctor_job_attempt_job_id_id_idx" ON "doctor_job_attempt"("job_id", "id");

-- CreateIndex
CREATE INDEX "doctor_job_dead_letter_job_id_idx" ON "doctor_job_dead_letter"("job_id");
