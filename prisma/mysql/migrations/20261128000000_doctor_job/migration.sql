-- Doctor Job tables (MariaDB 10.6+). Generated to match prisma/mysql/doctor-job.prisma.
-- Times are UTC: Doctor Job writes them with UTC_TIMESTAMP(3).

-- CreateTable
CREATE TABLE `doctor_job` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `type` VARCHAR(255) NOT NULL,
    `payload` JSON NOT NULL,
    `priority` INTEGER NOT NULL DEFAULT 0,
    `ordering_key` VARCHAR(255) NULL,
    `dedup_key` VARCHAR(255) NULL,
    `run_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `locked_until` DATETIME(3) NULL,
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `max_attempts` INTEGER NOT NULL,
    `claim_token` VARCHAR(36) NULL,
    `last_error` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `doctor_job_dedup_key_key`(`dedup_key`),
    INDEX `doctor_job_priority_run_at_id_idx`(`priority` DESC, `run_at`, `id`),
    INDEX `doctor_job_ordering_key_id_idx`(`ordering_key`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `doctor_job_dead_letter` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `job_id` BIGINT NOT NULL,
    `type` VARCHAR(255) NOT NULL,
    `payload` JSON NOT NULL,
    `attempts` INTEGER NOT NULL,
    `max_attempts` INTEGER NOT NULL,
    `priority` INTEGER NOT NULL DEFAULT 0,
    `ordering_key` VARCHAR(255) NULL,
    `error_message` TEXT NOT NULL,
    `error_stack` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL,
    `failed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `doctor_job_dead_letter_type_id_idx`(`type`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `doctor_job_schedule` (
    `type` VARCHAR(255) NOT NULL,
    `last_tick` DATETIME(3) NOT NULL,

    PRIMARY KEY (`type`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
