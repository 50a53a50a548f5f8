#!/usr/bin/env node
// Generates the sample's Prisma clients (PostgreSQL, SQLite, MariaDB) into generated/, and only
// when they are not current: each output folder keeps a stamp, a hash of what its client is made
// from (the schema folder's .prisma files and the prisma / @prisma/client versions). A client whose
// stamp matches is left alone; a changed schema or Prisma upgrade regenerates it.
//
// Two `npm start` at once (the README's two-instance example) must not both generate: the
// generator empties its output folder first, so the other process could load a half-written client
// ("Cannot find module './internal/prismaNamespace'"). A lock folder (generated/.generate.lock,
// made atomically with mkdir) lets one process generate while the others wait, then find the
// stamps current and skip. A lock left by a process that died is taken over.
//
// `prisma generate` downloads a schema-engine binary at start-up even though generating does not
// use it; offline that download fails. Pointing PRISMA_SCHEMA_ENGINE_BINARY at a stand-in skips it.
//
// DOCTOR_JOB_FORCE_GENERATE=1 regenerates regardless of the stamps.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const DIALECTS = ['postgresql', 'sqlite', 'mysql'];
const STAMP = '.doctor-job-generate.json';
const lockDir = path.join(root, 'generated', '.generate.lock');
const LOCK_WAIT_MS = 5 * 60_000;

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'no-schema-engine');
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const prisma = process.env.DOCTOR_JOB_PRISMA_BIN ?? path.join(root, 'node_modules', '.bin', 'prisma');
const force = process.env.DOCTOR_JOB_FORCE_GENERATE === '1';

function versionOf(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'missing';
  }
}

/** What a dialect's client is generated from, hashed; and the folder it is generated into. */
function inputsOf(dialect) {
  const schemaDir = path.join(root, 'prisma', dialect);
  const files = fs.readdirSync(schemaDir).filter((name) => name.endsWith('.prisma')).sort();
  const hash = createHash('sha256');
  hash.update(`prisma ${versionOf('prisma')}\n@prisma/client ${versionOf('@prisma/client')}\n`);
  let output;
  for (const name of files) {
    const text = fs.readFileSync(path.join(schemaDir, name), 'utf8');
    hash.update(`${name}\n${text}\n`);
    const match = /^\s*output\s*=\s*"([^"]+)"/m.exec(text);
    if (match) output = path.resolve(schemaDir, match[1]);
  }
  return { hash: hash.digest('hex'), output: output ?? path.join(root, 'generated', dialect) };
}

/** A client is current when its stamp holds the same hash and its entry point is there. */
function isCurrent({ hash, output }) {
  if (force) return false;
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(output, STAMP), 'utf8'));
    return stamp.hash === hash && fs.existsSync(path.join(output, 'client.ts'));
  } catch {
    return false;
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Takes the lock, waiting for another generating process; takes over a lock whose process is gone. */
function lock() {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let owner;
    try {
      owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    } catch {
      owner = undefined; // being created or removed right now
    }
    if (owner && !alive(owner)) {
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`prisma-generate: another process (pid ${owner}) has held ${lockDir} for ${LOCK_WAIT_MS / 1000} s; remove the folder if that process is gone`);
    }
    if (!told) {
      console.log('Another process is generating the Prisma clients; waiting for it.');
      told = true;
    }
    sleep(100);
  }
}

const unlock = () => fs.rmSync(lockDir, { recursive: true, force: true });

function main() {
  if (!force && DIALECTS.every((dialect) => isCurrent(inputsOf(dialect)))) {
    console.log('Prisma clients are current (generated/); not generating.');
    return;
  }
  lock();
  try {
    let generated = 0;
    for (const dialect of DIALECTS) {
      const inputs = inputsOf(dialect); // again under the lock: another process may have just generated it
      if (isCurrent(inputs)) continue;
      fs.rmSync(path.join(inputs.output, STAMP), { force: true });
      execFileSync(prisma, ['generate', '--schema', path.join('prisma', dialect)], { cwd: root, env, stdio: 'inherit' });
      fs.writeFileSync(path.join(inputs.output, STAMP), `${JSON.stringify({ hash: inputs.hash, generatedAt: new Date().toISOString() })}\n`);
      generated++;
    }
    if (generated === 0) console.log('Prisma clients are current (generated/); not generating.');
  } finally {
    unlock();
  }
}

try {
  main();
} catch (error) {
  console.error(error.message);
  process.exitCode = 1;
}
