-- Doctor Job tables (PostgreSQL). Generated to match prisma/postgresql/doctor-job.prisma.

-- CreateTable
CREATE TABLE "doctor_job" (
    "id" BIGSERIAL NOT NULL,
    "type" VARCHAR(255) NOT NULL,
    "payload" JSONB NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "ordering_key" TEXT,
    "dedup_key" TEXT,
    "run_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "locked_until" TIMESTAMPTZ(3),
    "claim_token" UUID,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doctor_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "doctor_job_dead_letter" (
    "id" BIGSERIAL NOT NULL,
    "job_id" BIGINT NOT NULL,
    "type" VARCHAR(255) NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL,
    "max_attempts" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "ordering_key" TEXT,
    "error_message" TEXT NOT NULL,
    "error_stack" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doctor_job_dead_letter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "doctor_job_schedule" (
    "type" VARCHAR(255) NOT NULL,
    "last_tick" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "doctor_job_schedule_pkey" PRIMARY KEY ("type")
);

-- CreateIndex
CREATE INDEX "doctor_job_priority_run_at_id_idx" ON "doctor_job"("priority" DESC, "run_at", "id");

-- CreateIndex
CREATE INDEX "doctor_job_ordering_key_id_idx" ON "doctor_job"("ordering_key", "id");

-- CreateIndex
CREATE UNIQUE INDEX "doctor_job_dedup_key_key" ON "doctor_job"("dedup_key");

-- CreateIndex
CREATE INDEX "doctor_job_dead_letter_type_id_idx" ON "doctor_job_dead_letter"("type", "id");
