import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './support';

// scripts/prisma-generate.js (`npm start`, `npm test`) on a copy of the repository's schemas, with
// the real prisma CLI: the repository's own generated/ is left alone, since other test runs load it.
jest.setTimeout(120_000);

const root = join(__dirname, '..', '..');
let work: string;
const generate = () => run(process.execPath, [join(work, 'scripts', 'prisma-generate.js')], work);
const generatedLines = (output: string) => output.match(/Generated Prisma Client .* to \.\/generated\/\w+/g) ?? [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'doctor-job-generate-'));
  mkdirSync(join(work, 'scripts'));
  for (const file of ['prisma-generate.js', 'no-schema-engine']) cpSync(join(root, 'scripts', file), join(work, 'scripts', file));
  cpSync(join(root, 'prisma'), join(work, 'prisma'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('two runs at once: one generates each client, the other waits and skips; both succeed', async () => {
  const [a, b] = await Promise.all([generate(), generate()]);
  expect([a.status, b.status]).toEqual([0, 0]);
  const lines = [...generatedLines(a.stdout), ...generatedLines(b.stdout)].sort();
  expect(lines.map((line) => line.replace(/.* to /, ''))).toEqual(['./generated/mysql', './generated/postgresql', './generated/sqlite']);
  expect(`${a.stdout}${b.stdout}`).toMatch(/Prisma clients are current|waiting for it/);
  for (const dialect of ['postgresql', 'sqlite', 'mysql']) {
    expect(existsSync(join(work, 'generated', dialect, 'internal', 'prismaNamespace.ts'))).toBe(true);
    expect(JSON.parse(readFileSync(join(work, 'generated', dialect, '.doctor-job-generate.json'), 'utf8')).hash).toMatch(/^[0-9a-f]{64}$/);
  }
  expect(existsSync(join(work, 'generated', '.generate.lock'))).toBe(false);
});

it('skips when every client is current', async () => {
  const result = await generate();
  expect(result.status).toBe(0);
  expect(result.stdout).toBe('Prisma clients are current (generated/); not generating.\n');
});

it('a changed schema regenerates that client only', async () => {
  appendFileSync(join(work, 'prisma', 'sqlite', 'sample.prisma'), '\n// changed by the test\n');
  const result = await generate();
  expect(result.status).toBe(0);
  expect(generatedLines(result.stdout)).toEqual([expect.stringContaining('./generated/sqlite')]);
  expect((await generate()).stdout).toContain('current');
});

it('a client whose files are gone is regenerated, and a lock left by a dead process is taken over', async () => {
  rmSync(join(work, 'generated', 'postgresql'), { recursive: true });
  mkdirSync(join(work, 'generated', '.generate.lock'));
  writeFileSync(join(work, 'generated', '.generate.lock', 'pid'), '2147483646'); // no such process
  const result = await generate();
  expect(result.status).toBe(0);
  expect(generatedLines(result.stdout)).toEqual([expect.stringContaining('./generated/postgresql')]);
  expect(existsSync(join(work, 'generated', '.generate.lock'))).toBe(false);
});
