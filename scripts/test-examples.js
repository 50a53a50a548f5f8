#!/usr/bin/env node
// The example apps (examples/esm-vitest, examples/cjs-jest) as a user gets them: this repository
// built and packed as `npm pack` packs it, each example copied into a fresh folder with its
// "doctor-job" dependency pointed at that tarball, installed with npm, then:
//   prisma generate (offline) → npx doctor-job migrate + the app's own migration → doctor-job status
//   → tsc type-check → build → the example's own tests → the built app started with node, one
//   sign-up over HTTP, its job run by the background runner, SIGTERM, a clean exit.
// Any failure stops the run with the command's output and a non-zero exit code.
//
//   node scripts/test-examples.js [--keep] [esm-vitest|cjs-jest ...]     (npm run test:examples)
//
// --keep leaves the temporary folder (printed) for a look. The build goes to a staging copy
// (tsc into its dist/, then `npm pack --ignore-scripts` there, which applies package.json "files"
// as a publish does) rather than through `prepack` in the repository, so it never deletes the
// repository's dist/ under someone else's feet.
//
// better-sqlite3 compiles from source on install here (its install script's prebuilt-binary
// download cannot reach GitHub): about two minutes per example on two cores. When this
// repository's node_modules holds the same version already built, that binary is handed to the
// examples' installs as a local prebuild (npm_config_better_sqlite3_local_prebuilds, read by its
// prebuild-install), which is what the download would have fetched. DOCTOR_JOB_EXAMPLES_BUILD_SQLITE=1
// compiles it anyway.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const ALL = ['esm-vitest', 'cjs-jest'];
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const names = args.filter((arg) => !arg.startsWith('--'));
for (const name of names) if (!ALL.includes(name)) fail(`unknown example "${name}" (examples: ${ALL.join(', ')})`);
const examples = names.length ? names : ALL;

const started = Date.now();
const timings = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-job-examples-'));
const baseEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
delete baseEnv.DATABASE_URL;
// Run as `npm run test:examples`, this script inherits the repository's npm_package_* and npm_config_local_prefix: not for the examples.
for (const key of Object.keys(baseEnv)) if (/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/.test(key)) delete baseEnv[key];

main()
  .then(() => {
    if (!keep) time('remove the temporary folder', () => fs.rmSync(work, { recursive: true, force: true }));
    report();
    console.log(`examples: all done in ${seconds(Date.now() - started)}${keep ? `; the folders are in ${work}` : ''}`);
    console.log(`examples: ${examples.length} passed, 0 failed`);
  })
  .catch((error) => {
    report();
    console.error(`\nexamples: FAILED: ${error.message}`);
    console.error(`(the folders are left in ${work})`);
    process.exit(1);
  });

async function main() {
  console.log(`examples: working in ${work}`);
  const tarball = time('pack doctor-job', pack);
  console.log(`examples: packed ${path.relative(work, tarball)}`);
  const prebuilds = localSqlitePrebuild();
  for (const name of examples) await testExample(name, tarball, prebuilds);
}

/** Builds and packs the package the way a publish would; returns the tarball's path. */
function pack() {
  const stage = path.join(work, 'package');
  fs.mkdirSync(stage);
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'prisma']) fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
  const tsc = [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')];
  if (process.env.CI === 'true') run(process.execPath, tsc, root);
  else {
    // Outside CI, a file someone is still editing may not type-check; tsc emits all the same, and
    // CI's type-check (and this step under CI=true) is where that fails.
    const result = spawnSync(process.execPath, tsc, { cwd: root, encoding: 'utf8' });
    if (!fs.existsSync(path.join(stage, 'dist', 'index.js'))) throw new Error(`the build made no dist/index.js:\n${result.stdout}${result.stderr}`);
    if (result.status !== 0) console.warn(`examples: WARNING: lib/ does not type-check (${result.stdout.split('\n').filter(Boolean).length} lines of errors); packing what tsc emitted`);
  }
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage, {}, { capture: true });
  return path.join(work, JSON.parse(out)[0].filename);
}

/** A folder holding this repository's better-sqlite3 binary as a prebuild, or null (then it compiles). */
function localSqlitePrebuild() {
  if (process.env.DOCTOR_JOB_EXAMPLES_BUILD_SQLITE === '1') return null;
  const dir = path.join(root, 'node_modules', 'better-sqlite3');
  const binary = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(binary)) return null;
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const wanted = new Set(examples.map((name) => readJson(path.join(root, 'examples', name, 'package.json')).dependencies['better-sqlite3']));
  if (wanted.size !== 1 || !wanted.has(version)) {
    console.log(`examples: better-sqlite3 ${[...wanted].join(', ')} wanted, ${version} built here: it compiles from source`);
    return null;
  }
  const prebuilds = path.join(work, 'prebuilds');
  fs.mkdirSync(prebuilds);
  // prebuild-install's file name: {name}-v{version}-{runtime}-v{abi}-{platform}{libc}-{arch}.tar.gz (glibc: no libc part).
  const file = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  run('tar', ['-czf', path.join(prebuilds, file), '-C', dir, 'build/Release/better_sqlite3.node'], root);
  console.log(`examples: better-sqlite3 ${version}: this repository's build handed to the installs as ${file}`);
  return prebuilds;
}

async function testExample(name, tarball, prebuilds) {
  console.log(`\n== example ${name}`);
  const dir = path.join(work, name);
  const source = path.join(root, 'examples', name);
  const skip = /(^|\/)(node_modules|dist|generated)(\/|$)|\.db(-journal|-wal|-shm)?$|\.tsbuildinfo$/;
  fs.cpSync(source, dir, { recursive: true, filter: (file) => !skip.test(path.relative(source, file)) });
  const pkg = readJson(path.join(dir, 'package.json'));
  if (!pkg.dependencies?.['doctor-job']) throw new Error(`${name}: package.json has no "doctor-job" dependency`);
  pkg.dependencies['doctor-job'] = `file:${tarball}`;
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

  const installEnv = prebuilds ? { npm_config_better_sqlite3_local_prebuilds: prebuilds } : {};
  time(`${name}: npm install`, () => run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir, installEnv));
  const installed = path.join(dir, 'node_modules', 'doctor-job');
  if (fs.lstatSync(installed).isSymbolicLink()) throw new Error(`${name}: node_modules/doctor-job is a link, not the installed tarball`);
  if (!fs.existsSync(path.join(installed, 'dist', 'index.js'))) throw new Error(`${name}: the installed doctor-job has no dist/index.js`);
  // The example keeps a copy of Doctor Job's models next to its schema, as the README says to. Doctor
  // Job writes its tables with SQL of its own, so an outdated copy breaks nothing here; it is
  // reported, and the run goes on with the package's models, as a user would after copying them again.
  const shipped = fs.readFileSync(path.join(installed, 'prisma', 'sqlite', 'doctor-job.prisma'), 'utf8');
  if (fs.readFileSync(path.join(dir, 'prisma', 'doctor-job.prisma'), 'utf8') !== shipped) {
    console.warn(
      `examples: WARNING: examples/${name}/prisma/doctor-job.prisma is not the package's prisma/sqlite/doctor-job.prisma; ` +
        `refresh it: cp prisma/sqlite/doctor-job.prisma examples/${name}/prisma/ (this run uses the package's)`,
    );
    fs.writeFileSync(path.join(dir, 'prisma', 'doctor-job.prisma'), shipped);
  }

  const env = { PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, 'scripts', 'no-schema-engine'), PRISMA_HIDE_UPDATE_MESSAGE: '1' };
  const dev = { ...env, DATABASE_URL: 'file:./dev.db' };
  time(`${name}: prisma generate`, () => run('npm', ['run', 'prisma:generate'], dir, env));
  time(`${name}: migrate`, () => {
    run('npm', ['run', 'db:migrate'], dir, dev);
    run('npx', ['--no-install', 'doctor-job', 'status'], dir, dev); // exit code 1 if anything is pending
    const again = run('npx', ['--no-install', 'doctor-job', 'migrate'], dir, dev, { capture: true });
    if (/^applied\s/m.test(again)) throw new Error(`${name}: a second doctor-job migrate applied something:\n${again}`);
  });
  time(`${name}: type-check`, () => run('npm', ['run', 'typecheck'], dir, env));
  time(`${name}: build`, () => run('npm', ['run', 'build'], dir, env));
  time(`${name}: tests`, () => run('npm', ['test'], dir, env));
  await timeAsync(`${name}: built app`, () => smoke(name, dir, dev));
}

/** Starts the built app with node, signs a user up over HTTP, waits for the runner to send the email, stops it with SIGTERM. */
async function smoke(name, dir, env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...baseEnv, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 30_000;
    let user;
    while (!user) {
      if (child.exitCode !== null) throw new Error(`${name}: the built app exited (${child.exitCode}) before serving:\n${output}`);
      if (Date.now() > deadline) throw new Error(`${name}: the built app did not answer within 30 s:\n${output}`);
      const res = await httpJson(port, 'POST', '/users', { email: `smoke-${Date.now()}@example.com` }).catch(() => null);
      if (res && res.status !== 201) throw new Error(`${name}: POST /users answered ${res.status} ${JSON.stringify(res.body)}:\n${output}`);
      if (res) user = res.body;
      else await sleep(200);
    }
    for (;;) {
      const res = await httpJson(port, 'GET', `/users/${user.id}`);
      if (res.status === 200 && res.body.welcomeEmailSentAt) break;
      if (Date.now() > deadline) throw new Error(`${name}: the runner did not send the welcome email within 30 s (GET /users/${user.id}: ${JSON.stringify(res.body)}):\n${output}`);
      await sleep(100);
    }
    console.log(`${name}: the built app (node dist/main.js) signed up user ${user.id} and its runner sent the welcome email`);
  } finally {
    child.kill('SIGTERM');
  }
  // enableShutdownHooks(): Nest closes the app (the runner stops, Prisma disconnects), then raises
  // SIGTERM again, so a clean stop ends by that signal (or with code 0), well before this timer.
  let killed = false;
  const timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), 15_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (killed || !(code === 0 || signal === 'SIGTERM')) {
    throw new Error(`${name}: the built app did not stop cleanly on SIGTERM (${killed ? 'killed after 15 s' : `code ${code}, signal ${signal}`}):\n${output}`);
  }
}

function httpJson(port, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: data ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null });
        } catch {
          resolve({ status: res.statusCode, body: text });
        }
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command, its output streamed (or captured and returned); throws on a non-zero exit. */
function run(command, commandArgs, cwd, env = {}, { capture = false } = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  });
  const shown = `${command} ${commandArgs.join(' ')}`.replace(work, '$WORK');
  if (result.error) throw new Error(`${shown} (in ${cwd}): ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${shown} (in ${cwd}) exited with ${result.status ?? result.signal}${capture ? `:\n${result.stdout}${result.stderr}` : ' (its output is above)'}`);
  }
  return result.stdout ?? '';
}

function time(label, fn) {
  const at = Date.now();
  try {
    return fn();
  } finally {
    timings.push([label, Date.now() - at]);
  }
}

async function timeAsync(label, fn) {
  const at = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([label, Date.now() - at]);
  }
}

function report() {
  console.log('\nexamples: timings');
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(32)} ${seconds(ms).padStart(7)}`);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fail(message) {
  console.error(`examples: ${message}`);
  process.exit(2);
}
