-- Doctor Job: the operator's console (admin API and CLI). The runner instances (a running job's
-- claim token names the instance that holds it and when it claimed it, so the claim writes
-- nothing more), which dead letter a job replays, why a job was dead-lettered, every failed
-- attempt's error and time, and the job types paused for every instance. Times are UTC.

-- AlterTable
ALTER TABLE `doctor_job` ADD COLUMN `replay_of` BIGINT NULL;

-- AlterTable
ALTER TABLE `doctor_job_dead_letter` ADD COLUMN `reason` VARCHAR(32) NOT NULL DEFAULT 'failed',
    ADD COLUMN `replay_of` BIGINT NULL;

-- CreateTable
CREATE TABLE `doctor_job_attempt` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `job_id` BIGINT NOT NULL,
    `run_job_id` BIGINT NOT NULL,
    `attempt` INTEGER NOT NULL,
    `error_message` TEXT NOT NULL,
    `error_stack` TEXT NULL,
    `failed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `doctor_job_attempt_job_id_id_idx`(`job_id`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `doctor_job_paused_type` (
    `type` VARCHAR(255) NOT NULL,
    `paused_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`type`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `doctor_job_instance` (
    `instance_key` VARCHAR(8) NOT NULL,
    `name` VARCHAR(255) NOT NULL,
    `started_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `seen_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`instance_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateIndex
CREATE INDEX `doctor_job_dead_letter_job_id_idx` ON `doctor_job_dead_letter`(`job_id`);
