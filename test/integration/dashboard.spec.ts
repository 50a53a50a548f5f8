import { Injectable } from '@nestjs/common';
import { JobHandler, OutboxRunner } from 'doctor-job';
import { waitFor } from '../support/wait';
import { newGate, type Gate } from '../support/gate';
import { CONTENT_SECURITY_POLICY, DoctorJobDashboardModule } from 'doctor-job/dashboard';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { attr, openSession, parsePage, postAction, startDashboardApp, testIds, type ConsoleSession, type DashboardApp } from './dashboard.fixture';

const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '</script><script>alert(1)</script>';
const QUOTES = `" onmouseover="alert(1)" x='`;
const XSS_TYPE = `dash-${IMG}`;

let gate: Gate;

@Injectable()
class DashboardJobs {
  @JobHandler('dash-ok')
  ok() {}

  @JobHandler('dash-other')
  other() {}

  @JobHandler('dash-fail', { maxAttempts: 1 })
  fail(payload: { message: string }) {
    throw new Error(payload.message);
  }

  @JobHandler('dash-slow')
  async slow() {
    await gate.promise;
  }

  @JobHandler(XSS_TYPE, { maxAttempts: 1 })
  xss() {
    throw new Error(`${IMG} ${SCRIPT}`);
  }
}

/**
 * A page parsed as a browser parses it has no element, attribute or script the payloads would
 * make: one <script> (the console's, by src), no on* attribute, no style attribute, no <img>,
 * and every attribute value and text exactly as the app stored it (so the payloads show as text).
 */
function expectInert(html: string, mustShow: string[] = []) {
  const { elements, text, errors } = parsePage(html);
  expect(errors).toEqual([]); // well-formed HTML: nothing for a browser to repair
  const scripts = elements.filter((e) => e.tagName === 'script');
  expect(scripts.map((s) => attr(s, 'src'))).toEqual([expect.stringMatching(/^\/[^"]+\/assets\/dashboard\.js\?v=[0-9a-f]{12}$/)]);
  expect(scripts[0].childNodes ?? []).toEqual([]);
  expect(elements.filter((e) => e.tagName === 'img')).toEqual([]);
  const attributes = elements.flatMap((e) => (e.attrs ?? []).map((a) => a.name));
  expect(attributes.filter((name) => name.startsWith('on') || name === 'style' || name === 'x')).toEqual([]);
  const values = elements.flatMap((e) => (e.attrs ?? []).map((a) => a.value));
  for (const shown of mustShow) expect([text, ...values].some((v) => v.includes(shown))).toBe(true);
}

eachDialect('Dashboard pages and actions', (dialect) => {
  let db: TestDatabase;
  let c: DashboardApp;
  let session: ConsoleSession;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    c = await startDashboardApp(db, DoctorJobDashboardModule.forRoot({ path: 'ops/jobs', authorize: () => true }), { providers: [DashboardJobs] });
    session = await openSession(c.http, '/ops/jobs');
  });
  afterAll(async () => {
    await c?.close();
    await db?.dispose();
  });
  beforeEach(async () => {
    for (const table of ['doctor_job', 'doctor_job_dead_letter', 'doctor_job_attempt', 'doctor_job_paused_type']) await db.execute(`DELETE FROM "${table}"`);
  });

  /** Dead letters of `dash-fail` (reason failed), made by running the jobs. */
  const failJobs = async (n: number, message = 'boom') => {
    for (let i = 0; i < n; i++) await c.enqueue('dash-fail', { message: `${message} ${i}` });
    await c.tester.drain();
    return (await c.admin.listDeadLetters({ type: 'dash-fail' })).items.map((d) => d.id);
  };

  it('serves every page with the strict CSP, nosniff, a referrer policy and no-store; the assets from the package', async () => {
    const [letter] = await failJobs(1);
    const job = await c.enqueue('dash-ok', { n: 1 });
    for (const path of ['/ops/jobs', '/ops/jobs/jobs', `/ops/jobs/jobs/${job}`, '/ops/jobs/dead-letters', `/ops/jobs/dead-letters/${letter}`]) {
      const response = await c.http.get(path).expect(200);
      expect(response.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('same-origin');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toContain(`<meta name="csrf-token" content="`);
      expect(response.text).toContain('href="/ops/jobs/assets/dashboard.css?v=');
    }
    const css = await c.http.get('/ops/jobs/assets/dashboard.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(css.text).toContain(':focus-visible');
    const js = await c.http.get('/ops/jobs/assets/dashboard.js').expect(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toContain("'x-csrf-token': csrf");
  });

  it('shows per type the queue by state, pauses, dead letters, and the last hour of this instance from its events', async () => {
    await c.enqueue('dash-ok');
    await failJobs(2); // and 1 dash-ok processed
    await c.enqueue('dash-ok');
    await c.enqueue('dash-ok', {}, { delayMs: 3_600_000 });
    await c.admin.pause('dash-other');
    const html = (await c.http.get('/ops/jobs').expect(200)).text;
    const row = (type: string) => new RegExp(`<tr data-testid="type-row-${type}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
    const cells = (type: string) => [...row(type).matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').trim());
    // Type, due, scheduled, running, paused, dead letters, oldest due, last hour, action.
    expect(cells('dash-ok').slice(0, 6)).toEqual(['dash-ok', '1', '1', '0', 'no', '0']);
    expect(cells('dash-ok')[7]).toMatch(/^\d+ \/ 0 \/ 0$/);
    expect(cells('dash-fail').slice(0, 6)).toEqual(['dash-fail', '0', '0', '0', 'no', '2']);
    expect(cells('dash-fail')[7]).toMatch(/ \/ 0 \/ \d+$/);
    expect(cells('dash-other').slice(0, 6)).toEqual(['dash-other', '0', '0', '0', 'paused', '0']);
    expect(row('dash-other')).toContain('data-testid="resume"');
    expect(row('dash-ok')).toContain('data-testid="pause"');
    expect(html).toContain("this instance's lifecycle events since it started");
    expect(html).toMatch(/<svg class="chart"[^>]*role="img"/);
  });

  it('counts the outcomes of the last hour exactly, per type', async () => {
    const before = await c.http.get('/ops/jobs').expect(200);
    const count = (html: string, type: string) => /<tr data-testid="type-row-([^"]+)">/.test(html) ? new RegExp(`type-row-${type}"[\\s\\S]*?(\\d+) / (\\d+) / (\\d+)</td>`).exec(html)?.slice(1).map(Number) ?? [0, 0, 0] : [0, 0, 0];
    const [p0, , d0] = count(before.text, 'dash-ok');
    const [, , fd0] = count(before.text, 'dash-fail');
    for (let i = 0; i < 3; i++) await c.enqueue('dash-ok');
    await c.enqueue('dash-fail', { message: 'x' });
    await c.tester.drain();
    const after = (await c.http.get('/ops/jobs').expect(200)).text;
    expect(count(after, 'dash-ok')).toEqual([p0 + 3, 0, d0]);
    expect(count(after, 'dash-fail')[2]).toBe(fd0 + 1);
  });

  it('escapes job types, keys, payloads, errors and stacks in lists, details and attributes', async () => {
    const payload = { html: IMG, script: SCRIPT, quote: QUOTES };
    const job = await c.enqueue('dash-ok', payload, { orderingKey: QUOTES, dedupKey: SCRIPT, delayMs: 3_600_000 });
    await c.enqueue(XSS_TYPE, payload);
    await c.tester.drain();
    const [letter] = (await c.admin.listDeadLetters({ type: XSS_TYPE })).items;
    expect(letter.errorStack).toContain(IMG);
    const pages = {
      overview: (await c.http.get('/ops/jobs').expect(200)).text,
      jobs: (await c.http.get('/ops/jobs/jobs').query({ orderingKey: QUOTES }).expect(200)).text,
      job: (await c.http.get(`/ops/jobs/jobs/${job}`).expect(200)).text,
      deadLetters: (await c.http.get('/ops/jobs/dead-letters').query({ type: XSS_TYPE }).expect(200)).text,
      deadLetter: (await c.http.get(`/ops/jobs/dead-letters/${letter.id}`).expect(200)).text,
    };
    expectInert(pages.overview, [XSS_TYPE, `type-row-${XSS_TYPE}`]);
    expectInert(pages.jobs, [QUOTES, SCRIPT]);
    expectInert(pages.job, [IMG, SCRIPT, JSON.stringify(QUOTES).slice(1, -1), QUOTES /* the ordering key */]);
    expectInert(pages.deadLetters, [XSS_TYPE, `${IMG} ${SCRIPT}`]);
    expectInert(pages.deadLetter, [XSS_TYPE, IMG, SCRIPT, JSON.stringify(QUOTES).slice(1, -1)]);
    const escapedImg = '&lt;img src=x onerror=alert(1)&gt;';
    expect(pages.overview).toContain(`data-testid="type-row-dash-${escapedImg}"`);
    expect(pages.overview).toContain(`<input type="hidden" name="type" value="dash-${escapedImg}">`);
    expect(pages.jobs).toContain('&quot; onmouseover=&quot;alert(1)&quot; x=&#39;'); // the key in the table and in the filter's value attribute
    expect(pages.jobs).toContain('value="&quot; onmouseover=&quot;alert(1)&quot; x=&#39;"');
    expect(pages.job).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    const payloadBlock = /<pre data-testid="payload">([\s\S]*?)<\/pre>/.exec(pages.job)![1];
    expect(payloadBlock).toContain('&quot;html&quot;: &quot;&lt;img src=x onerror=alert(1)&gt;&quot;');
    expect(pages.deadLetters).toContain(escapedImg);
    expect(/<pre data-testid="error"[^>]*>([\s\S]*?)<\/pre>/.exec(pages.deadLetter)![1]).toBe(`${escapedImg} &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;`);
    expect(/<pre data-testid="stack">([\s\S]*?)<\/pre>/.exec(pages.deadLetter)![1]).toContain(`Error: ${escapedImg}`);
    // A reflected filter value is escaped too.
    expectInert((await c.http.get('/ops/jobs/dead-letters').query({ type: SCRIPT }).expect(200)).text, [SCRIPT]);
  });

  it('lists with filters and paging, and shows a job and a dead letter in full with its attempt history', async () => {
    const ids = [await c.enqueue('dash-ok', { n: 1 }, { orderingKey: 'k1' }), await c.enqueue('dash-ok', { n: 2 }), await c.enqueue('dash-other', { n: 3 }, { dedupKey: 'd3', delayMs: 3_600_000 })];
    const rows = (html: string, kind: string) => [...html.matchAll(new RegExp(`data-testid="${kind}-row-(\\d+)"`, 'g'))].map((m) => m[1]);
    const first = await c.http.get('/ops/jobs/jobs').query({ limit: '2' }).expect(200);
    expect(rows(first.text, 'job')).toEqual(ids.slice(0, 2));
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)![1].replace(/&amp;/g, '&');
    expect(next).toBe(`/ops/jobs/jobs?limit=2&cursor=${ids[1]}`);
    expect(rows((await c.http.get(next).expect(200)).text, 'job')).toEqual([ids[2]]);
    expect(rows((await c.http.get('/ops/jobs/jobs?state=scheduled').expect(200)).text, 'job')).toEqual([ids[2]]);
    expect(rows((await c.http.get('/ops/jobs/jobs?type=dash-ok&state=due').expect(200)).text, 'job')).toEqual(ids.slice(0, 2));
    expect(rows((await c.http.get('/ops/jobs/jobs?orderingKey=k1').expect(200)).text, 'job')).toEqual([ids[0]]);
    expect(rows((await c.http.get('/ops/jobs/jobs?dedupKey=d3').expect(200)).text, 'job')).toEqual([ids[2]]);
    const detail = (await c.http.get(`/ops/jobs/jobs/${ids[2]}`).expect(200)).text;
    expect(/<pre data-testid="payload">([\s\S]*?)<\/pre>/.exec(detail)![1]).toBe('{\n  &quot;n&quot;: 3\n}');
    expect(testIds(detail)).toEqual(expect.arrayContaining(['cancel', 'run-now', 'payload']));

    const letters = await failJobs(3, 'broke');
    const failed = (await c.http.get('/ops/jobs/dead-letters').query({ type: 'dash-fail', reason: 'failed', limit: '2' }).expect(200)).text;
    expect(rows(failed, 'dead-letter')).toEqual([...letters].slice(0, 2));
    expect(failed).toContain('<strong data-testid="match-count">3</strong>');
    expect(rows((await c.http.get('/ops/jobs/dead-letters').query({ failedAfter: '2999-01-01T00:00:00Z' }).expect(200)).text, 'dead-letter')).toEqual([]);
    const letterPage = (await c.http.get(`/ops/jobs/dead-letters/${letters[0]}`).expect(200)).text;
    expect(/<pre data-testid="error"[^>]*>([\s\S]*?)<\/pre>/.exec(letterPage)![1]).toMatch(/^broke \d$/);
    expect(letterPage).toContain('<h2>Attempt history</h2>');
    expect(letterPage).toMatch(/<tr><td>\d+<\/td><td>1<\/td><td><time/);
    expect(testIds(letterPage)).toEqual(expect.arrayContaining(['replay', 'delete', 'payload', 'error', 'stack']));
    // The detail page's buttons name what they act on, as the lists' do.
    expect(letterPage).toContain(`data-testid="replay" aria-label="Replay dead letter ${letters[0]}">Replay</button>`);
    expect(letterPage).toContain(`data-testid="delete" class="danger" aria-label="Delete dead letter ${letters[0]}">Delete</button>`);
    expect(detail).toContain(`aria-label="Cancel job ${ids[2]}">Cancel</button>`);
  });

  it('answers bad ids and filters with 400 and a message, unknown ids with 404, as a page or as JSON', async () => {
    const bad = await c.http.get('/ops/jobs/dead-letters?reason=bogus').expect(400);
    expect(bad.headers['content-type']).toMatch(/^text\/html/);
    expect(bad.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(bad.text).toContain('reason must be one of failed, non-retryable, lease-expired, no-handler, invalid-payload, cancelled, got &quot;bogus&quot;');
    // Back to the list the page belongs to, its filter cleared; a writable console's error page claims no read-only mode and carries no action form.
    expect(bad.text).toContain('<a href="/ops/jobs/dead-letters">Back to the dead letters</a>');
    expect(bad.text).not.toContain('read-only');
    expect(bad.text).not.toContain('bulk-confirm');
    expect((await c.http.get('/ops/jobs/jobs?limit=abc').expect(400)).text).toContain('limit must be an integer from 1 to 500, got &quot;abc&quot;');
    const badState = (await c.http.get('/ops/jobs/jobs?state=done').expect(400)).text;
    expect(badState).toContain('state must be one of due, scheduled, running');
    expect(badState).toContain('<a href="/ops/jobs/jobs">Back to the jobs</a>');
    expect((await c.http.get('/ops/jobs/jobs/abc').expect(400)).text).toContain('id must be a job id');
    expect((await c.http.get('/ops/jobs/jobs/999999').expect(404)).text).toContain('No job in the queue has the id 999999');
    expect((await c.http.get('/ops/jobs/dead-letters/999999').expect(404)).text).toContain('No dead letter has the id 999999');
    expect((await c.http.get('/ops/jobs/dead-letters?failedAfter=yesterday').expect(400)).text).toContain('failedAfter must be a valid time');
    const json = await c.http.get('/ops/jobs/dead-letters/count?failedBefore=nope').set('accept', 'application/json').expect(400);
    expect(json.body).toMatchObject({ statusCode: 400, error: 'InvalidArgumentError', message: expect.stringContaining('failedBefore must be a valid time') });
    const action = await postAction(c.http, '/ops/jobs/actions/dead-letters/replay', session, { ids: ['12x'] }).expect(400);
    expect(action.body.message).toContain('id must be a dead-letter id');
    expect((await postAction(c.http, '/ops/jobs/actions/dead-letters/replay', session, { ids: ['987654'] }).expect(404)).body.message).toContain('nothing was changed');
    expect((await postAction(c.http, '/ops/jobs/actions/dead-letters/delete', session, {}).expect(400)).body.message).toContain('a bulk action without a filter would touch every dead letter');
    expect((await postAction(c.http, '/ops/jobs/actions/dead-letters/delete', session, { ids: ['1'], type: 'x' }).expect(400)).body.message).toContain('give either ids or a filter');
    expect((await postAction(c.http, '/ops/jobs/actions/jobs/cancel', session, {}).expect(400)).body.message).toContain('ids is required');
    expect((await postAction(c.http, '/ops/jobs/actions/pause', session, { type: '' }).expect(400)).body.message).toContain('type must be a non-empty string');
    expect((await postAction(c.http, '/ops/jobs/actions/pause', session, [1]).expect(400)).body.message).toContain('must be a JSON object');
  });

  it('refuses an action without the CSRF token, with a wrong one, or without its cookie (403), and changes nothing', async () => {
    const [letter] = await failJobs(1);
    const path = '/ops/jobs/actions/dead-letters/delete';
    const missing = await c.http.post(path).set('cookie', session.cookie).send({ ids: [letter] }).expect(403);
    expect(missing.body.message).toContain('CSRF token missing');
    const wrong = await c.http.post(path).set('cookie', session.cookie).set('x-csrf-token', session.token.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))).send({ ids: [letter] }).expect(403);
    expect(wrong.body.message).toContain('CSRF token does not match');
    const noCookie = await c.http.post(path).set('x-csrf-token', session.token).send({ ids: [letter] }).expect(403);
    expect(noCookie.body.message).toContain('CSRF cookie missing');
    const other = await openSession(c.http, '/ops/jobs/dead-letters'); // another browser: its token does not go with the first one's cookie
    expect(other.cookie).not.toBe(session.cookie);
    await c.http.post(path).set('cookie', session.cookie).set('x-csrf-token', other.token).send({ ids: [letter] }).expect(403);
    const form = await c.http.post(path).set('cookie', session.cookie).type('form').send({ ids: letter }).expect(403);
    expect(form.headers['content-type']).toMatch(/^text\/html/);
    expect(form.text).toContain('CSRF token missing');
    expect(await db.countDeadLetters()).toBe(1);
    await c.http.get('/ops/jobs/actions/dead-letters/delete').expect(404); // actions are POST only
    expect(await db.countDeadLetters()).toBe(1);
  });

  it('replays and deletes dead letters by id, returning the count, and the database follows', async () => {
    const letters = await failJobs(3);
    const replay = await postAction(c.http, '/ops/jobs/actions/dead-letters/replay', session, { ids: [letters[0], letters[1]] }).expect(200);
    expect(replay.headers['content-type']).toMatch(/^application\/json/);
    expect(replay.body).toMatchObject({ action: 'replay', count: 2, jobIds: [expect.any(String), expect.any(String)] });
    expect(replay.body.message).toBe(`Replayed 2 dead letters as jobs ${replay.body.jobIds.join(', ')}`);
    expect(await db.countDeadLetters()).toBe(1);
    expect((await c.admin.listJobs({ type: 'dash-fail' })).items.map((j) => j.id).sort()).toEqual([...replay.body.jobIds].sort());
    const removed = await postAction(c.http, '/ops/jobs/actions/dead-letters/delete', session, { ids: [letters[2]] }).expect(200);
    expect(removed.body).toMatchObject({ action: 'delete', count: 1, message: 'Deleted 1 dead letter with its attempt history' });
    expect(await db.countDeadLetters()).toBe(0);
  });

  it('replays and deletes by filter after a count of what they touch; all: true for every one', async () => {
    await failJobs(3);
    await c.enqueue('dash-other');
    const [cancelled] = (await c.admin.cancelJobs((await c.admin.listJobs({ type: 'dash-other' })).items.map((j) => j.id))).jobIds;
    expect(cancelled).toBeDefined();
    expect((await c.http.get('/ops/jobs/dead-letters/count?type=dash-fail').set('accept', 'application/json').expect(200)).body).toEqual({ count: 3 });
    expect((await c.http.get('/ops/jobs/dead-letters/count?reason=cancelled').set('accept', 'application/json').expect(200)).body).toEqual({ count: 1 });
    const list = (await c.http.get('/ops/jobs/dead-letters?type=dash-fail').expect(200)).text;
    expect(list).toContain('data-bulk-fields="type=dash-fail"');
    expect(list).toContain('Replay all 3 matching');
    expect(testIds(list)).toEqual(expect.arrayContaining(['bulk-replay', 'bulk-delete', 'confirm']));
    expect((await c.http.get('/ops/jobs/dead-letters').expect(200)).text).toContain('data-bulk-fields="all=true"');

    const replay = await postAction(c.http, '/ops/jobs/actions/dead-letters/replay', session, { type: 'dash-fail' }).expect(200);
    expect(replay.body).toMatchObject({ count: 3 });
    expect(await db.countDeadLetters()).toBe(1);
    expect(await db.countJobs()).toBe(3);
    await c.tester.drain(); // they fail again: dead letters again, each with its history of two attempts
    const again = (await c.admin.listDeadLetters({ type: 'dash-fail' })).items;
    expect(again).toHaveLength(3);
    expect((await c.admin.getDeadLetter(again[0].id)).history).toHaveLength(2);
    const none = await postAction(c.http, '/ops/jobs/actions/dead-letters/delete', session, { type: 'dash-fail', failedBefore: '2000-01-01T00:00:00Z' }).expect(200);
    expect(none.body).toMatchObject({ count: 0 });
    const all = await postAction(c.http, '/ops/jobs/actions/dead-letters/delete', session, { all: true }).expect(200);
    expect(all.body).toMatchObject({ action: 'delete', count: 4 });
    expect(await db.countDeadLetters()).toBe(0);
  });

  it('cancels a queued job (kept as a dead letter, reason cancelled) and runs a scheduled one now', async () => {
    const queued = await c.enqueue('dash-ok');
    const later = await c.enqueue('dash-ok', {}, { delayMs: 3_600_000 });
    const ran = await postAction(c.http, '/ops/jobs/actions/jobs/run-now', session, { ids: [later] }).expect(200);
    expect(ran.body).toMatchObject({ action: 'run-now', count: 1, jobIds: [later], alreadyDue: [], message: 'Made 1 job due now' });
    expect((await c.admin.getJob(later)).state).toBe('due');
    const cancel = await postAction(c.http, '/ops/jobs/actions/jobs/cancel', session, { ids: [queued] }).expect(200);
    expect(cancel.body).toMatchObject({ action: 'cancel', count: 1, jobIds: [queued] });
    const [letter] = (await c.admin.listDeadLetters({ reason: 'cancelled' })).items;
    expect(letter).toMatchObject({ jobId: queued, reason: 'cancelled', type: 'dash-ok' });
    expect(await db.countJobs()).toBe(1);
    expect((await postAction(c.http, '/ops/jobs/actions/jobs/cancel', session, { ids: [queued] }).expect(404)).body.message).toContain(`No job in the queue has the id ${queued}`);
  });

  it('shows a running job with the instance that holds it and since when, and refuses to cancel it (409), changing nothing', async () => {
    gate = newGate();
    const id = await c.enqueue('dash-slow');
    const runner = c.app.get(OutboxRunner);
    runner.start();
    try {
      await waitFor('the slow job running', async () => (await c.admin.listJobs({ state: 'running' })).items[0]?.lockedBy === runner.instance);
      const html = (await c.http.get('/ops/jobs/jobs').query({ state: 'running' }).expect(200)).text;
      const row = new RegExp(`<tr data-testid="job-row-${id}">[\\s\\S]*?</tr>`).exec(html)![0];
      expect(row).toContain(`<td>running</td>`);
      expect(row).toMatch(new RegExp(`<td>${runner.instance!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since <time datetime="\\d{4}-`));
      expect(row).not.toContain('data-testid="cancel"');
      const refused = await postAction(c.http, '/ops/jobs/actions/jobs/cancel', session, { ids: [id] }).expect(409);
      expect(refused.body.message).toContain(`Job ${id} is running`);
      expect((await c.admin.getJob(id)).state).toBe('running');
    } finally {
      gate.open();
      await runner.stop();
    }
  });

  it('pauses and resumes a type for every instance', async () => {
    const paused = await postAction(c.http, '/ops/jobs/actions/pause', session, { type: 'dash-ok' }).expect(200);
    expect(paused.body).toMatchObject({ action: 'pause', type: 'dash-ok', paused: true, changed: true, count: 1 });
    expect((await c.admin.pausedTypes()).map((p) => p.type)).toEqual(['dash-ok']);
    expect((await postAction(c.http, '/ops/jobs/actions/pause', session, { type: 'dash-ok' }).expect(200)).body).toMatchObject({ changed: false, count: 0, message: 'dash-ok was already paused' });
    const overview = (await c.http.get('/ops/jobs').expect(200)).text;
    expect(/<tr data-testid="type-row-dash-ok">[\s\S]*?<\/tr>/.exec(overview)![0]).toContain('data-testid="resume"');
    // Its queued jobs say why they do not run, in the list and on their page; another type's do not.
    const [held, other] = [await c.enqueue('dash-ok', { n: 9 }), await c.enqueue('dash-other', { n: 10 })];
    const list = (await c.http.get('/ops/jobs/jobs').expect(200)).text;
    expect(new RegExp(`<tr data-testid="job-row-${held}">[\\s\\S]*?</tr>`).exec(list)![0]).toContain('<span class="badge" data-testid="type-paused">type paused</span>');
    expect(new RegExp(`<tr data-testid="job-row-${other}">[\\s\\S]*?</tr>`).exec(list)![0]).not.toContain('type paused');
    expect((await c.http.get(`/ops/jobs/jobs/${held}`).expect(200)).text).toContain('data-testid="type-paused"');
    expect((await c.http.get(`/ops/jobs/jobs/${other}`).expect(200)).text).not.toContain('data-testid="type-paused"');
    await c.admin.cancelJobs([held, other]);
    await c.admin.deleteDeadLettersWhere({ all: true });
    const resumed = await postAction(c.http, '/ops/jobs/actions/resume', session, { type: 'dash-ok' }).expect(200);
    expect(resumed.body).toMatchObject({ action: 'resume', paused: false, changed: true });
    expect(await c.admin.pausedTypes()).toEqual([]);
  });

  it('takes plain form posts (urlencoded, token in _csrf) and answers with a page', async () => {
    const letters = await failJobs(2);
    const response = await c.http.post('/ops/jobs/actions/dead-letters/delete').set('cookie', session.cookie).type('form').send(`_csrf=${encodeURIComponent(session.token)}&ids=${letters[0]}&ids=${letters[1]}`).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('<p data-testid="result">Deleted 2 dead letters with their attempt history</p>');
    expect(response.text).toContain('<a href="/ops/jobs/dead-letters">Back to the dead letters</a>');
    expect(await db.countDeadLetters()).toBe(0);
  });
});
