#!/usr/bin/env node
// Generates the sample's Prisma clients (PostgreSQL and SQLite) into generated/.
// `prisma generate` downloads a schema-engine binary at start-up even though generating does not
// use it; offline that download fails. Pointing PRISMA_SCHEMA_ENGINE_BINARY at a stand-in skips it.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'no-schema-engine');
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const prisma = path.join(root, 'node_modules', '.bin', 'prisma');
for (const dialect of ['postgresql', 'sqlite', 'mysql']) {
  execFileSync(prisma, ['generate', '--schema', path.join('prisma', dialect)], { cwd: root, env, stdio: 'inherit' });
}
