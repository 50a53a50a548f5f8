import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';
import { describeBrowser, launchChromium, type Chromium } from './support/chromium';
import { flashSays as flashOf, openPage, postJson, watchPage, type PageProblems } from './support/console-page';
import { HOSTILE_TYPE, HostileJobs, XSS_IMG, XSS_SCRIPT } from './support/hostile-jobs';
import { startSampleServer, type SampleServer } from './support/sample-server';

const TOKEN = 'browser-test-console-token-5f1c0e7a';

/** SAVE_SCREENSHOTS=1 writes the README's screenshots into docs/ (CI leaves the tree alone). */
const SCREENSHOTS = process.env.SAVE_SCREENSHOTS === '1' ? resolve(__dirname, '..', '..', 'docs') : undefined;

/** The sample without DASHBOARD_TOKEN (read-only, loopback only) is in dashboard-readonly.browser.spec.ts; under Fastify, dashboard-fastify.browser.spec.ts. */
describeBrowser('the dashboard in a real browser (chromium, the sample at /jobs, SQLite)', () => {
  let db: TestDatabase;
  let sample: SampleServer;
  let chromium: Chromium;
  let page: Page;
  let problems: PageProblems;
  /** Dead letters of reticulateSplines, seeded through the sample's HTTP endpoint. */
  let splineLetters: string[] = [];
  let hostileLetter: string;
  let keyedJob: string;

  const open = (path: string) => openPage(page, sample.url + path);
  const flashSays = (pattern: RegExp) => flashOf(page, pattern);
  const splinesDeadLetters = async () => (await sample.admin.listDeadLetters({ type: 'reticulateSplines', limit: 500 })).items;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    sample = await startSampleServer(db, { dashboardToken: TOKEN, host: '127.0.0.1', providers: [HostileJobs] });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    problems = watchPage(page);

    // The sample's own traffic: a login link that is sent, and reticulateSplines jobs that fail three times each.
    const post = (path: string, body: unknown) => postJson(sample.url, path, body);
    expect((await post('/clients', { email: 'ada@example.com' })).status).toBe(201);
    expect((await post('/clients/login-link', { email: 'ada@example.com' })).status).toBe(202);
    for (const target of ['terrain', 'coastline', 'rivers', 'forests', XSS_IMG]) expect((await post('/splines', { target })).status).toBe(202);
    await sample.outbox.transaction(async (tx) => {
      await sample.outbox.enqueue(tx, HOSTILE_TYPE as never, { note: XSS_IMG } as never);
      // Waits an hour: stays in the queue with hostile keys to be looked at.
      keyedJob = await sample.outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 1 }, { delayMs: 3_600_000, orderingKey: XSS_IMG, dedupKey: XSS_SCRIPT });
    });
    await waitFor('five reticulateSplines dead letters and the hostile one', async () => {
      const stats = await sample.admin.stats();
      return stats.types.find((t) => t.type === 'reticulateSplines')?.deadLetters === 5 && stats.types.find((t) => t.type === HOSTILE_TYPE)?.deadLetters === 1;
    }, 30_000);
    // From here on the replayed spline jobs stay in the queue, where the test can count them.
    await sample.admin.pause('reticulateSplines');
    splineLetters = (await splinesDeadLetters()).map((letter) => letter.id);
    hostileLetter = (await sample.admin.listDeadLetters({ type: HOSTILE_TYPE })).items[0].id;
  });

  afterAll(async () => {
    await chromium?.close();
    await sample?.close();
    await db?.dispose();
  });

  afterEach(() => expect(problems).toEqual({ dialogs: [], blocked: [], errors: [] }));

  it('asks for the token: /jobs answers 401 saying where to sign in, and the sign-in form lets the browser in', async () => {
    const denied = await page.goto(`${sample.url}/jobs`);
    expect(denied?.status()).toBe(401);
    await expect(page.getByTestId('error-message').textContent()).resolves.toBe(
      'The console needs a sign-in: send Authorization: Bearer <DASHBOARD_TOKEN>, or sign in at /jobs/login.',
    );
    await open('/jobs/login');

    await page.locator('#token').fill('not-the-console-token');
    const [wrong] = await Promise.all([
      page.waitForResponse((response) => response.url() === `${sample.url}/jobs/login` && response.request().method() === 'POST'),
      page.getByTestId('sign-in').click(),
    ]);
    expect(wrong.status()).toBe(401);
    await expect(page.getByTestId('login-problem').textContent()).resolves.toBe('That is not the console token. Nothing was signed in.');
    const session = async () => (await chromium.context.cookies(`${sample.url}/jobs`)).find((cookie) => cookie.name === 'doctor_job_console');
    expect(await session()).toBeUndefined();

    await page.locator('#token').fill(TOKEN);
    await page.getByTestId('sign-in').click();
    await page.waitForURL(`${sample.url}/jobs`);
    expect(await session()).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/jobs' });
  });

  it("shows the sample's job types on the overview", async () => {
    await open('/jobs');
    for (const type of ['sendClientLoginLink', 'reticulateSplines', HOSTILE_TYPE]) await expect(page.getByTestId(`type-row-${type}`).count()).resolves.toBe(1);
    const splines = page.getByTestId('type-row-reticulateSplines');
    await expect(splines.getByTestId('paused').textContent()).resolves.toBe('paused');
    // A figure, not a bound: what a phone downloads for the overview (no compression; the assets are cached for a day).
    const sizes = await Promise.all(
      ['/jobs', '/jobs/assets/dashboard.css', '/jobs/assets/dashboard.js'].map(async (path) => (await (await page.request.get(sample.url + path)).body()).length),
    );
    // eslint-disable-next-line no-console
    console.log(`overview page weight: HTML ${sizes[0]} B + CSS ${sizes[1]} B + JS ${sizes[2]} B = ${sizes.reduce((a, b) => a + b, 0)} B, uncompressed`);
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-overview.png') });
    }
  });

  it('shows hostile payloads, type names, keys and error messages as text, and runs none of them', async () => {
    const pages = ['/jobs', '/jobs/jobs', `/jobs/jobs/${keyedJob}`, '/jobs/dead-letters', `/jobs/dead-letters/${hostileLetter}`, `/jobs/dead-letters?type=${encodeURIComponent(HOSTILE_TYPE)}`];
    for (const path of pages) {
      await open(path);
      // Nothing injected: no <img> at all, and no script but the console's own file.
      await expect(page.locator('img').count()).resolves.toBe(0);
      const scripts = await page.locator('script').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('src') ?? `inline: ${node.textContent}`));
      expect(scripts).toEqual([expect.stringMatching(/^\/jobs\/assets\/dashboard\.js(\?|$)/)]);
      const text = await page.locator('body').innerText();
      if (path === '/jobs/jobs' || path === `/jobs/jobs/${keyedJob}`) {
        expect(text).toContain(XSS_IMG); // the ordering key
        expect(text).toContain(XSS_SCRIPT); // the dedup key
      }
      if (path.startsWith('/jobs/dead-letters/')) {
        expect(text).toContain(HOSTILE_TYPE);
        await expect(page.getByTestId('payload').textContent()).resolves.toContain(`"note": "${XSS_IMG}"`);
        await expect(page.getByTestId('error').textContent()).resolves.toBe(`Refused ${XSS_IMG} and ${XSS_SCRIPT}`);
        await expect(page.getByTestId('stack').textContent()).resolves.toContain(`Error: Refused ${XSS_IMG} and ${XSS_SCRIPT}`);
      }
      if (path === '/jobs') expect(text).toContain(HOSTILE_TYPE);
    }
    // The spline whose target is hostile: its payload and error, on its dead letter's page.
    const hostileSpline = (await splinesDeadLetters()).find((letter) => (letter.payload as { target: string }).target === XSS_IMG)!;
    await open(`/jobs/dead-letters/${hostileSpline.id}`);
    await expect(page.getByTestId('error').textContent()).resolves.toBe(`Reticulating splines for "${XSS_IMG}" is not implemented yet`);
    await expect(page.locator('img').count()).resolves.toBe(0);
  });

  it('replays one dead letter and deletes another by clicking', async () => {
    const letterOf = async (target: string) => (await splinesDeadLetters()).find((letter) => (letter.payload as { target: string }).target === target)!.id;
    const replayId = await letterOf('terrain');
    const deleteId = await letterOf('coastline');
    const replayed = await sample.admin.getDeadLetter(replayId);
    await open(`/jobs/dead-letters/${replayId}`);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-dead-letter.png') });
    await page.getByTestId('replay').click();
    await flashSays(/^Replayed 1 dead letter as job \d+$/);
    await expect(sample.admin.getDeadLetter(replayId)).rejects.toThrow(replayId);
    const queued = (await sample.admin.listJobs({ type: 'reticulateSplines' })).items;
    expect(queued.map((job) => job.replayOf)).toEqual([replayed.jobId]);

    await open(`/jobs/dead-letters/${deleteId}`);
    await page.getByTestId('delete').click();
    await flashSays(/^Deleted 1 dead letter with its attempt history$/);
    await expect(sample.admin.getDeadLetter(deleteId)).rejects.toThrow(deleteId);
    expect((await splinesDeadLetters()).map((letter) => letter.id).sort()).toEqual(splineLetters.filter((id) => id !== replayId && id !== deleteId).sort());
  });

  it('pauses and resumes a type by clicking', async () => {
    const paused = async () => (await sample.admin.stats()).paused.map((p) => p.type).sort();
    expect(await paused()).toEqual(['reticulateSplines']);
    await open('/jobs');
    const row = page.getByTestId('type-row-sendClientLoginLink');
    await row.getByTestId('pause').click();
    await flashSays(/^Paused sendClientLoginLink/);
    expect(await paused()).toEqual(['reticulateSplines', 'sendClientLoginLink']);
    // The page refreshes its table after the action: the row now offers resume.
    await row.getByTestId('resume').waitFor();
    await expect(row.getByTestId('paused').textContent()).resolves.toBe('paused');
    await row.getByTestId('resume').click();
    await flashSays(/^Resumed sendClientLoginLink/);
    expect(await paused()).toEqual(['reticulateSplines']);
    await row.getByTestId('pause').waitFor();
    await expect(row.getByTestId('paused').textContent()).resolves.toBe('no');
  });

  it('replays every dead letter a filter matches, after a confirmation that states how many', async () => {
    const remaining = await sample.admin.countDeadLetters({ type: 'reticulateSplines' });
    expect(remaining).toBe(3);
    await open('/jobs/dead-letters?type=reticulateSplines');
    await page.getByTestId('bulk-replay').click();
    const confirmation = page.locator('#bulk-confirm');
    // It opens once the script has counted what the filter matches (a fetch), so wait for it rather than look at once.
    await page.locator('#bulk-confirm:not([hidden])').waitFor();
    await expect(confirmation.isVisible()).resolves.toBe(true);
    await expect(confirmation.innerText()).resolves.toMatch(/\b3 dead letters\b/);
    await expect(page.locator('#bulk-confirm-text').textContent()).resolves.toBe('Replay 3 dead letters matching type reticulateSplines?');
    await confirmation.getByTestId('confirm').click();
    await flashSays(/^Replayed 3 dead letters as jobs \d+, \d+, \d+$/);
    expect(await sample.admin.countDeadLetters({ type: 'reticulateSplines' })).toBe(0);
    const queued = (await sample.admin.listJobs({ type: 'reticulateSplines' })).items;
    expect(queued).toHaveLength(4); // the one replayed alone, and these three
    expect(await sample.admin.countDeadLetters({ type: HOSTILE_TYPE })).toBe(1); // the filter held
  });

  it('refuses an action without the CSRF token (403) and changes nothing', async () => {
    await open('/jobs');
    const before = await sample.admin.stats();
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    expect(csrf).toMatch(/^[\w-]{20,}$/);
    // page.request carries the browser's cookies (the session and the CSRF nonce), not the token.
    const missing = await page.request.post(`${sample.url}/jobs/actions/pause`, { form: { type: 'sendClientLoginLink' } });
    expect(missing.status()).toBe(403);
    expect(await missing.text()).toContain('CSRF token missing');
    const forged = await page.request.post(`${sample.url}/jobs/actions/dead-letters/delete`, { form: { ids: hostileLetter, _csrf: 'A'.repeat(43) } });
    expect(forged.status()).toBe(403);
    const after = await sample.admin.stats();
    expect(after.paused).toEqual(before.paused);
    expect(after.totals).toEqual(before.totals);
    await expect(sample.admin.getDeadLetter(hostileLetter)).resolves.toMatchObject({ id: hostileLetter });
    // The same request with the page's token goes through: the 403 was the CSRF check's.
    const allowed = await page.request.post(`${sample.url}/jobs/actions/pause`, { form: { type: 'sendClientLoginLink' }, headers: { 'x-csrf-token': csrf! } });
    expect(allowed.ok()).toBe(true);
    expect((await sample.admin.stats()).paused.map((p) => p.type)).toContain('sendClientLoginLink');
    await sample.admin.resume('sendClientLoginLink');
  });

  it('answers 401 to requests without the token, in a browser without the session', async () => {
    const stranger = await chromium.context.browser()!.newContext();
    try {
      const response = await stranger.request.get(`${sample.url}/jobs/dead-letters/${hostileLetter}`);
      expect(response.status()).toBe(401);
      const action = await stranger.request.post(`${sample.url}/jobs/actions/dead-letters/delete`, { form: { ids: hostileLetter } });
      expect(action.status()).toBe(401);
      await expect(sample.admin.getDeadLetter(hostileLetter)).resolves.toMatchObject({ id: hostileLetter });
    } finally {
      await stranger.close();
    }
  });

  it('works from the keyboard: Tab reaches an action button, Enter presses it', async () => {
    await open('/jobs');
    const row = page.getByTestId('type-row-sendClientLoginLink');
    let reached = false;
    for (let presses = 0; presses < 80 && !reached; presses++) {
      await page.keyboard.press('Tab');
      reached = (await row.locator('[data-testid="pause"]:focus').count()) === 1;
    }
    expect(reached).toBe(true);
    // The page refreshes itself every 5 s; the focus must stay on this row's button through it.
    const refreshed = page.waitForResponse((response) => response.url() === `${sample.url}/jobs` && response.request().resourceType() === 'fetch');
    await (await refreshed).finished();
    await row.locator('[data-testid="pause"]').waitFor(); // the new table is in
    await expect(page.locator(':focus').getAttribute('aria-label')).resolves.toBe('Pause sendClientLoginLink');
    await page.keyboard.press('Enter');
    await flashSays(/^Paused sendClientLoginLink/);
    expect((await sample.admin.stats()).paused.map((p) => p.type)).toEqual(['reticulateSplines', 'sendClientLoginLink']);
    await sample.admin.resume('sendClientLoginLink');
  });

  it('opens and closes the bulk confirmation from the keyboard: Enter opens it on its confirm button, Escape closes it, focus back, nothing changed', async () => {
    const before = await sample.admin.countDeadLetters();
    expect(before).toBeGreaterThan(0);
    await open('/jobs/dead-letters');
    const bulk = page.getByTestId('bulk-delete');
    await bulk.focus();
    await page.keyboard.press('Enter');
    await page.locator('#bulk-confirm:not([hidden])').waitFor();
    await expect(page.locator('#bulk-confirm-text').textContent()).resolves.toBe(`Delete ${before} dead letter${before === 1 ? '' : 's'} (all of them)? This cannot be undone.`);
    await expect(page.locator(':focus').getAttribute('data-testid')).resolves.toBe('confirm');
    await page.keyboard.press('Escape');
    await page.locator('#bulk-confirm[hidden]').waitFor({ state: 'attached' });
    await expect(page.locator(':focus').getAttribute('data-testid')).resolves.toBe('bulk-delete');
    expect(await sample.admin.countDeadLetters()).toBe(before);
  });

  it('fits a 375 px phone screen: no page scrolls sideways (wide tables scroll in their own box)', async () => {
    const phone = await chromium.context.newPage();
    try {
      await phone.setViewportSize({ width: 375, height: 740 });
      const widths: Record<string, number> = {};
      for (const path of ['/jobs', '/jobs/jobs', '/jobs/dead-letters', `/jobs/dead-letters/${hostileLetter}`, `/jobs/jobs/${keyedJob}`]) {
        expect((await phone.goto(sample.url + path))?.status()).toBe(200);
        widths[path] = (await phone.evaluate('document.documentElement.scrollWidth')) as number; // a string: this file is type-checked without the DOM's types
      }
      expect(Object.entries(widths).filter(([, width]) => width > 375)).toEqual([]);
    } finally {
      await phone.close();
    }
  });
});
