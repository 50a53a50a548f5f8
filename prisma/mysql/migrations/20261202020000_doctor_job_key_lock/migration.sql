-- Serialises the producers of an ordering key (MariaDB): an enqueuing transaction locks its keys'
-- rows here until it ends, so a key's jobs run in commit order. One row per ordering key used.
-- (PostgreSQL takes transaction-scoped advisory locks instead; SQLite has one writer at a time.)

-- CreateTable
CREATE TABLE `doctor_job_key_lock` (
    `ordering_key` VARCHAR(255) NOT NULL,

    PRIMARY KEY (`ordering_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
