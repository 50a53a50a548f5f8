import type { Page, Response } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';
import { describeBrowser, launchChromium, type Chromium } from './support/chromium';
import { flashSays, openPage, postJson, watchPage, type PageProblems } from './support/console-page';
import { HOSTILE_TYPE, HostileJobs, XSS_IMG, XSS_SCRIPT } from './support/hostile-jobs';
import { startSampleServer, type SampleServer } from './support/sample-server';
import { screenshotPath } from './support/screenshots';

const TOKEN = 'browser-test-fastify-console-token-9d2b';

/**
 * The same console under Nest's Fastify adapter (the issue: "works under both the Express and the
 * Fastify adapter"), on PostgreSQL: the other browser spec runs the sample on Express and SQLite.
 */
describeBrowser('the dashboard in a real browser under Fastify (chromium, the sample at /jobs, PostgreSQL)', () => {
  let db: TestDatabase;
  let sample: SampleServer;
  let chromium: Chromium;
  let page: Page;
  let problems: PageProblems;
  let hostileLetter: string;

  const open = (path: string) => openPage(page, sample.url + path);
  const splinesDeadLetters = async () => (await sample.admin.listDeadLetters({ type: 'reticulateSplines', limit: 500 })).items;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    sample = await startSampleServer(db, { dashboardToken: TOKEN, host: '127.0.0.1', providers: [HostileJobs], adapter: 'fastify' });
    expect(sample.app.getHttpAdapter().getType()).toBe('fastify');
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    problems = watchPage(page);

    // The sample's own traffic: a login link that is sent, and reticulateSplines jobs that fail three times each.
    expect((await postJson(sample.url, '/clients', { email: 'ada@example.com' })).status).toBe(201);
    expect((await postJson(sample.url, '/clients/login-link', { email: 'ada@example.com' })).status).toBe(202);
    for (const target of ['terrain', XSS_IMG]) expect((await postJson(sample.url, '/splines', { target })).status).toBe(202);
    await sample.outbox.transaction((tx) => sample.outbox.enqueue(tx, HOSTILE_TYPE as never, { note: XSS_IMG } as never));
    await waitFor('two reticulateSplines dead letters and the hostile one', async () => {
      const stats = await sample.admin.stats();
      return stats.types.find((t) => t.type === 'reticulateSplines')?.deadLetters === 2 && stats.types.find((t) => t.type === HOSTILE_TYPE)?.deadLetters === 1;
    }, 30_000);
    // A replayed spline job then stays in the queue, where the test can find it.
    await sample.admin.pause('reticulateSplines');
    hostileLetter = (await sample.admin.listDeadLetters({ type: HOSTILE_TYPE })).items[0].id;
  });

  afterAll(async () => {
    await chromium?.close();
    await sample?.close();
    await db?.dispose();
  });

  afterEach(() => expect(problems).toEqual({ dialogs: [], blocked: [], errors: [] }));

  it('signs in with the form (a urlencoded POST, parsed under Fastify too)', async () => {
    expect((await page.goto(`${sample.url}/jobs`))?.status()).toBe(401);
    await open('/jobs/login');
    await page.locator('#token').fill(TOKEN);
    await page.getByTestId('sign-in').click();
    await page.waitForURL(`${sample.url}/jobs`);
  });

  it("shows the sample's types on the overview with the package's CSS and script loaded under its CSP", async () => {
    const assets: Record<string, number> = {};
    const onResponse = (response: Response) => {
      if (response.url().includes('/jobs/assets/')) assets[new URL(response.url()).pathname] = response.status();
    };
    page.on('response', onResponse);
    const response = await page.goto(`${sample.url}/jobs`).finally(() => page.off('response', onResponse));
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.waitForLoadState('load');
    for (const type of ['sendClientLoginLink', 'reticulateSplines', HOSTILE_TYPE]) await expect(page.getByTestId(`type-row-${type}`).count()).resolves.toBe(1);
    expect(assets).toEqual({ '/jobs/assets/dashboard.css': 200, '/jobs/assets/dashboard.js': 200 });
    // The stylesheet applied (a blocked one is not in document.styleSheets); a string: this file is type-checked without the DOM's types.
    const sheets = (await page.evaluate('[...document.styleSheets].map((s) => [new URL(s.href).pathname, s.cssRules.length])')) as [string, number][];
    expect(sheets).toEqual([['/jobs/assets/dashboard.css', expect.any(Number)]]);
    expect(sheets[0][1]).toBeGreaterThan(10);
    await page.screenshot({ path: screenshotPath('dashboard-fastify-overview.png') });
  });

  it('shows a hostile type, payload and error as text, and runs none of them', async () => {
    await open(`/jobs/dead-letters/${hostileLetter}`);
    await expect(page.locator('img').count()).resolves.toBe(0);
    const scripts = await page.locator('script').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('src') ?? `inline: ${node.textContent}`));
    expect(scripts).toEqual([expect.stringMatching(/^\/jobs\/assets\/dashboard\.js(\?|$)/)]);
    await expect(page.locator('body').innerText()).resolves.toContain(HOSTILE_TYPE);
    await expect(page.getByTestId('payload').textContent()).resolves.toContain(`"note": "${XSS_IMG}"`);
    await expect(page.getByTestId('error').textContent()).resolves.toBe(`Refused ${XSS_IMG} and ${XSS_SCRIPT}`);
    await open('/jobs');
    await expect(page.locator('img').count()).resolves.toBe(0);
  });

  it("replays a dead letter by clicking: the page's CSRF token goes with it, the row is gone, the job is back in the queue", async () => {
    const letter = (await splinesDeadLetters()).find((l) => (l.payload as { target: string }).target === 'terrain')!;
    await open('/jobs/dead-letters?type=reticulateSplines');
    await expect(page.getByTestId(`dead-letter-row-${letter.id}`).count()).resolves.toBe(1);
    await open(`/jobs/dead-letters/${letter.id}`);
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/jobs/actions/dead-letters/replay')), page.getByTestId('replay').click()]);
    expect(request.method()).toBe('POST');
    expect(request.headers()['x-csrf-token']).toBe(csrf);
    await flashSays(page, /^Replayed 1 dead letter as job \d+$/);
    await open('/jobs/dead-letters?type=reticulateSplines');
    await expect(page.getByTestId(`dead-letter-row-${letter.id}`).count()).resolves.toBe(0);
    expect((await sample.admin.listJobs({ type: 'reticulateSplines' })).items.map((job) => job.replayOf)).toEqual([letter.jobId]);
  });

  it('pauses and resumes a type by clicking', async () => {
    const paused = async () => (await sample.admin.stats()).paused.map((p) => p.type).sort();
    await open('/jobs');
    const row = page.getByTestId('type-row-sendClientLoginLink');
    await row.getByTestId('pause').click();
    await flashSays(page, /^Paused sendClientLoginLink/);
    expect(await paused()).toEqual(['reticulateSplines', 'sendClientLoginLink']);
    await row.getByTestId('resume').click();
    await flashSays(page, /^Resumed sendClientLoginLink/);
    expect(await paused()).toEqual(['reticulateSplines']);
    await row.getByTestId('pause').waitFor();
  });

  it('refuses an action POST without the CSRF token (403) and changes nothing', async () => {
    await open('/jobs');
    // page.request carries the browser's cookies (the session and the CSRF nonce), not the token.
    const missing = await page.request.post(`${sample.url}/jobs/actions/dead-letters/delete`, { data: { ids: hostileLetter } });
    expect(missing.status()).toBe(403);
    expect(await missing.text()).toContain('CSRF token missing');
    await expect(sample.admin.getDeadLetter(hostileLetter)).resolves.toMatchObject({ id: hostileLetter });
  });

  it("signs out from the console's header (signOutUrl): the session is gone and /jobs answers 401 again", async () => {
    await open('/jobs/dead-letters');
    await page.getByTestId('sign-out').click();
    await page.waitForURL(`${sample.url}/jobs/login`);
    await expect(page.locator('#token').count()).resolves.toBe(1);
    expect((await chromium.context.cookies(`${sample.url}/jobs`)).map((cookie) => cookie.name)).not.toContain('doctor_job_console');
    expect((await page.goto(`${sample.url}/jobs`))?.status()).toBe(401);
  });
});
