import { Injectable, Module, UnauthorizedException, ValidationPipe, type CanActivate, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map } from 'rxjs';
import { ScheduleModule } from '@nestjs/schedule';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { DoctorJobModule, JobHandler } from 'doctor-job';
import { CONTENT_SECURITY_POLICY, DoctorJobDashboardModule, InvalidDashboardOptionsError, type DoctorJobDashboardOptions } from 'doctor-job/dashboard';
import { CapturedLogs } from '../support/outbox-app';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
import { openSession, postAction, startDashboardApp, testIds, type DashboardApp } from './dashboard.fixture';

@Injectable()
class AccessJobs {
  @JobHandler('acc-fail', { maxAttempts: 1 })
  fail() {
    throw new Error('no');
  }
}

/** A guard of the app's: Authorization: Bearer let-me-in, else 401 (it throws); x-deny: 1 → false (403). */
@Injectable()
class TokenGuard implements CanActivate {
  static calls = 0;
  canActivate(context: ExecutionContext): boolean {
    TokenGuard.calls++;
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    if (req.headers['x-deny'] === '1') return false;
    if (req.headers.authorization !== 'Bearer let-me-in') throw new UnauthorizedException('Sign in with the dashboard token');
    return true;
  }
}

@Module({ providers: [TokenGuard], exports: [TokenGuard] })
class GuardModule {}

const ACTION_IDS = ['replay', 'delete', 'pause', 'resume', 'cancel', 'run-now', 'bulk-replay', 'bulk-delete', 'confirm'];

describe('Dashboard start-up checks', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase('sqlite')));
  afterAll(async () => db?.dispose());

  const compile = (dashboard: ReturnType<typeof DoctorJobDashboardModule.forRoot>, withDoctorJob = true) =>
    Test.createTestingModule({ imports: [ScheduleModule.forRoot(), ...(withDoctorJob ? [DoctorJobModule.forRoot({ prisma: db.prisma, autoStart: false })] : []), dashboard] })
      .setLogger(new CapturedLogs())
      .compile();
  const refusal = async (build: () => Promise<unknown>) => {
    const error = await build().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidDashboardOptionsError);
    return (error as Error).message;
  };

  it('refuses to start without an access decision, saying what to add, also with readOnly: true alone', async () => {
    expect(await refusal(() => compile(DoctorJobDashboardModule.forRoot({ path: 'jobs' })))).toContain('no access decision');
    expect(await refusal(() => compile(DoctorJobDashboardModule.forRoot({ path: 'jobs' })))).toContain('guards: [YourAuthGuard] or authorize: (request) => boolean');
    const readOnly = await refusal(() => compile(DoctorJobDashboardModule.forRoot({ path: 'jobs', readOnly: true })));
    expect(readOnly).toContain('readOnly: true limits what it does, not who sees it: add guards or authorize as well');
    expect(await refusal(() => compile(DoctorJobDashboardModule.forRoot({ path: 'jobs', guards: [] })))).toContain('no access decision');
    const async = await refusal(() => compile(DoctorJobDashboardModule.forRootAsync({ path: 'jobs', useFactory: () => ({ readOnly: true }) })));
    expect(async).toContain('no access decision');
  });

  it('lists every bad option at once, and names a missing DoctorJobModule', async () => {
    const message = await refusal(() =>
      compile(DoctorJobDashboardModule.forRoot({ path: 'jobs', authorize: 'yes' as never, csrfSecret: 'short', refreshIntervalMs: 10, readOnly: 'no' as never, signInUrl: '//evil.example/login', signOutUrl: 'logout' })),
    );
    expect(message).toContain('authorize must be a function');
    expect(message).toContain('csrfSecret must be a string of at least 32 characters');
    expect(message).toContain('refreshIntervalMs must be 0 (off) or an integer of at least 1000');
    expect(message).toContain(`signInUrl must be a path on this site starting with one / (such as '/jobs/login'), got "//evil.example/login"`);
    expect(message).toContain(`signOutUrl must be a path on this site starting with one / (such as '/jobs/logout'), got "logout"`);
    expect(message).toContain('readOnly must be true or false');
    expect(await refusal(async () => DoctorJobDashboardModule.forRoot({ path: '/', authorize: () => true }))).toContain('path must name a segment');
    expect(await refusal(async () => DoctorJobDashboardModule.forRoot({ path: 'a b', authorize: () => true }))).toContain("path may hold letters, digits");
    expect(await refusal(async () => DoctorJobDashboardModule.forRoot(undefined as unknown as DoctorJobDashboardOptions))).toContain('path is required');
    const missing = await refusal(() => compile(DoctorJobDashboardModule.forRoot({ path: 'jobs', authorize: () => true }), false));
    expect(missing).toContain('DoctorJobDashboardModule needs DoctorJobModule');
  });
});

describe('The dashboard entry point', () => {
  it('is not loaded by the main entry point: an app that does not import doctor-job/dashboard loads neither it nor eta', () => {
    // A fresh Node process (jest's module registry is not Node's): count the modules loaded after each require.
    const script = [
      "require('reflect-metadata');",
      "const loaded = () => Object.keys(require.cache).filter((k) => /node_modules[\\\\/]eta[\\\\/]|lib[\\\\/]dashboard[\\\\/]/.test(k)).length;",
      "require('./lib/index.ts');",
      'const main = loaded();',
      "require('./lib/dashboard/index.ts');",
      'console.log(JSON.stringify({ main, dashboard: loaded() }));',
    ].join('\n');
    const root = join(__dirname, '..', '..');
    const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.sample.json' }, encoding: 'utf8' });
    const { main, dashboard } = JSON.parse(out.trim().split('\n').pop()!);
    expect(main).toBe(0);
    expect(dashboard).toBeGreaterThan(10); // the dashboard's files and eta's
  });
});

describe('Dashboard access decision and read-only mode', () => {
  let db: TestDatabase;
  const apps: DashboardApp[] = [];
  beforeAll(async () => (db = await createTestDatabase('sqlite')));
  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.dispose();
  });
  const start = async (options: Omit<DoctorJobDashboardOptions, 'path'>, extra: Parameters<typeof startDashboardApp>[2] = {}) => {
    const app = await startDashboardApp(db, DoctorJobDashboardModule.forRoot({ path: 'jobs', ...options }), { providers: [AccessJobs, TokenGuard], ...extra });
    apps.push(app);
    return app;
  };
  const deadLetter = async (app: DashboardApp) => {
    await app.enqueue('acc-fail');
    await app.tester.drain();
    return (await app.admin.listDeadLetters()).items[0].id;
  };

  it("signOutUrl: every page's header posts there (a plain form), the 403 page too, not the 401 page; without it no sign-out", async () => {
    const app = await start({ guards: [TokenGuard], signOutUrl: '/sign-out?to=%2Fjobs' });
    const letter = await deadLetter(app);
    const form = '<form class="sign-out" method="post" action="/sign-out?to=%2Fjobs"><button type="submit" data-testid="sign-out">Sign out</button></form>';
    for (const path of ['/jobs', '/jobs/jobs', '/jobs/dead-letters', `/jobs/dead-letters/${letter}`]) {
      expect((await app.http.get(path).set('authorization', 'Bearer let-me-in').expect(200)).text).toContain(form);
    }
    expect((await app.http.get('/jobs').set('authorization', 'Bearer let-me-in').set('x-deny', '1').expect(403)).text).toContain(form);
    expect((await app.http.get('/jobs').expect(401)).text).not.toContain('sign-out');
    const plain = await start({ guards: [TokenGuard] });
    expect((await plain.http.get('/jobs').set('authorization', 'Bearer let-me-in').expect(200)).text).not.toContain('sign-out');
    await app.admin.deleteDeadLetters(letter); // the tests after this one count the dead letters they make
  });

  it("runs the app's guard on every page, count and action (401 when it throws, 403 when it says no); serves the assets without it", async () => {
    const app = await start({ guards: [TokenGuard], signInUrl: '/sign-in?next=%2Fjobs' });
    const letter = await deadLetter(app);
    for (const path of ['/jobs', '/jobs/jobs', '/jobs/dead-letters', `/jobs/dead-letters/${letter}`, '/jobs/dead-letters/count']) {
      const refused = await app.http.get(path).expect(401);
      expect(refused.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(refused.text).toContain('Sign in with the dashboard token');
      // signInUrl: the 401 page's way on is the app's sign-in, not back into the console.
      if (path !== '/jobs/dead-letters/count') expect(refused.text).toContain('<a href="/sign-in?next=%2Fjobs">Sign in</a>');
      expect(refused.text).not.toContain('acc-fail');
      await app.http.get(path).set('authorization', 'Bearer let-me-in').set('x-deny', '1').expect(403);
      await app.http.get(path).set('authorization', 'Bearer let-me-in').expect(200);
    }
    const calls = TokenGuard.calls;
    await app.http.get('/jobs/assets/dashboard.css').expect(200);
    await app.http.get('/jobs/assets/dashboard.js').expect(200);
    expect(TokenGuard.calls).toBe(calls);

    // An action without the guard's approval is refused before its CSRF check, and changes nothing.
    const session = await (async () => {
      const page = await app.http.get('/jobs').set('authorization', 'Bearer let-me-in').expect(200);
      return { cookie: String(page.headers['set-cookie']).split(';')[0], token: /name="csrf-token" content="([^"]+)"/.exec(page.text)![1] };
    })();
    const action = await postAction(app.http, '/jobs/actions/dead-letters/delete', session, { ids: [letter] }).expect(401);
    expect(action.body.message).toBe('Sign in with the dashboard token');
    expect(await db.countDeadLetters()).toBe(1);
    await postAction(app.http, '/jobs/actions/dead-letters/delete', session, { ids: [letter] }).set('authorization', 'Bearer let-me-in').expect(200);
    expect(await db.countDeadLetters()).toBe(0);
  });

  it('asks authorize(request) with the adapter request; false answers 403', async () => {
    const seen: string[] = [];
    const app = await start({
      authorize: async (req) => {
        const { headers, url } = req as { headers: Record<string, string>; url: string };
        seen.push(url);
        return headers['x-admin'] === 'yes';
      },
    });
    const refused = await app.http.get('/jobs/dead-letters').expect(403);
    expect(refused.text).toContain('Access to the Doctor Job console was refused (authorize returned false)');
    await app.http.get('/jobs/dead-letters').set('x-admin', 'yes').expect(200);
    expect(seen).toEqual(['/jobs/dead-letters', '/jobs/dead-letters']);
  });

  it('read-only: no action control in any page, and every action refused with 403, changing nothing', async () => {
    const app = await start({ authorize: () => true, readOnly: true });
    const letter = await deadLetter(app);
    const job = await app.enqueue('acc-fail', {}, { delayMs: 3_600_000 });
    await app.admin.pause('acc-fail');
    for (const path of ['/jobs', '/jobs/jobs', `/jobs/jobs/${job}`, '/jobs/dead-letters', `/jobs/dead-letters/${letter}`]) {
      const html = (await app.http.get(path).expect(200)).text;
      expect(testIds(html).filter((id) => ACTION_IDS.includes(id))).toEqual([]);
      expect(html).not.toContain('<form method="post"');
      expect(html).toContain('read-only');
    }
    const session = await openSession(app.http, '/jobs');
    for (const [path, body] of [
      ['/jobs/actions/dead-letters/replay', { ids: [letter] }],
      ['/jobs/actions/dead-letters/delete', { all: true }],
      ['/jobs/actions/jobs/cancel', { ids: [job] }],
      ['/jobs/actions/jobs/run-now', { ids: [job] }],
      ['/jobs/actions/resume', { type: 'acc-fail' }],
      ['/jobs/actions/pause', { type: 'other' }],
    ] as const) {
      const refused = await postAction(app.http, path, session, body).expect(403);
      expect(refused.body.message).toContain('This console is read-only');
    }
    expect(await db.countDeadLetters()).toBe(1);
    expect((await app.admin.getJob(job)).state).toBe('scheduled');
    expect((await app.admin.pausedTypes()).map((p) => p.type)).toEqual(['acc-fail']);
    await app.admin.deleteDeadLettersWhere({ all: true });
    await app.admin.resume('acc-fail');
    await app.admin.cancelJobs(job);
    await app.admin.deleteDeadLettersWhere({ all: true });
  });

  it("leaves the app's global pipes out of its parameters: a strict ValidationPipe does not refuse its filters or bodies", async () => {
    const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
    const app = await start({ authorize: () => true }, { globalPipes: [pipe] });
    const letter = await deadLetter(app);
    const list = await app.http.get('/jobs/dead-letters').query({ type: 'acc-fail', reason: 'failed' }).expect(200);
    expect(list.text).toContain(`data-testid="dead-letter-row-${letter}"`);
    await app.http.get('/jobs/jobs').query({ state: 'due', limit: '5' }).expect(200);
    expect((await app.http.get(`/jobs/dead-letters/${letter}`).expect(200)).text).toContain('data-testid="payload"');
    // An error page's links lead into the console, also when the route repeats the mount path (/jobs/jobs/…).
    const missing = (await app.http.get('/jobs/jobs/123456').expect(404)).text;
    expect(missing).toContain('<a href="/jobs/jobs">Back to the jobs</a>');
    expect(missing).toContain('<a href="/jobs">Overview</a>');
    const session = await openSession(app.http, '/jobs');
    expect((await postAction(app.http, '/jobs/actions/dead-letters/delete', session, { type: 'acc-fail', reason: 'failed' }).expect(200)).body).toMatchObject({ count: 1 });
    expect(await db.countDeadLetters()).toBe(0);
  });

  it.each(['express', 'fastify'] as const)(
    "is untouched by an app-wide interceptor that wraps every handler's result in { data } (%s): pages stay HTML, assets CSS and JS, counts and actions their JSON",
    async (adapter) => {
      const wrapped: string[] = [];
      const wrap: NestInterceptor = {
        intercept: (context, next) => next.handle().pipe(map((data) => (wrapped.push(context.getHandler().name), { data }))),
      };
      const app = await start({ authorize: () => true }, { globalInterceptors: [wrap], adapter });
      const letter = await deadLetter(app);
      for (const path of ['/jobs', '/jobs/jobs', '/jobs/dead-letters', `/jobs/dead-letters/${letter}`]) {
        const page = await app.http.get(path).expect(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.text).toMatch(/^<!doctype html>/);
      }
      expect((await app.http.get('/jobs/assets/dashboard.css').expect(200)).text).toMatch(/^:root\{/);
      expect((await app.http.get('/jobs/assets/dashboard.js').expect(200)).text).toMatch(/^\(function \(\) \{/);
      expect((await app.http.get('/jobs/dead-letters/count').query({ type: 'acc-fail' }).set('accept', 'application/json').expect(200)).body).toEqual({ count: 1 });
      const session = await openSession(app.http, '/jobs');
      const replayed = await postAction(app.http, '/jobs/actions/dead-letters/replay', session, { ids: [letter] }).expect(200);
      expect(replayed.body).toMatchObject({ action: 'replay', count: 1 });
      expect(replayed.body.data).toBeUndefined();
      expect(wrapped).toEqual(expect.arrayContaining(['overview', 'deadLetter', 'replay'])); // the interceptor did run on the console's routes
      await app.tester.drain();
      await app.admin.deleteDeadLettersWhere({ all: true });
    },
  );

  it('csrfSecret: instances given the same secret take each other\'s tokens; one with its own random secret refuses them', async () => {
    const secret = 'a-secret-shared-by-every-instance-0123456789';
    const [one, two, own] = [await start({ authorize: () => true, csrfSecret: secret }), await start({ authorize: () => true, csrfSecret: secret }), await start({ authorize: () => true })];
    const session = await openSession(one.http, '/jobs');
    expect((await openSession(two.http, '/jobs')).token).not.toBe(session.token); // a new browser, a new nonce
    expect((await postAction(two.http, '/jobs/actions/pause', session, { type: 'acc-fail' }).expect(200)).body).toMatchObject({ changed: true });
    expect((await postAction(own.http, '/jobs/actions/resume', session, { type: 'acc-fail' }).expect(403)).body.message).toContain('CSRF token does not match');
    expect((await one.admin.pausedTypes()).map((p) => p.type)).toEqual(['acc-fail']);
    await one.admin.resume('acc-fail');
  });

  it('forRootAsync takes its options from a factory with injected providers; links and the cookie follow a global prefix', async () => {
    const module = DoctorJobDashboardModule.forRootAsync({
      path: 'jobs',
      imports: [GuardModule],
      inject: [TokenGuard],
      useFactory: (guard: TokenGuard) => ({ guards: [guard], refreshIntervalMs: 0, csrfSecret: 'x'.repeat(40) }),
    });
    const app = await startDashboardApp(db, module, { providers: [AccessJobs, TokenGuard], globalPrefix: 'api' });
    apps.push(app);
    await app.http.get('/api/jobs').expect(401);
    const page = await app.http.get('/api/jobs/dead-letters').set('authorization', 'Bearer let-me-in').expect(200);
    expect(page.text).toContain('<a href="/api/jobs/dead-letters" aria-current="page">');
    expect(page.text).toContain('data-base="/api/jobs" data-refresh-ms="0"');
    expect(page.text).not.toContain('id="auto-refresh"');
    expect(String(page.headers['set-cookie'])).toMatch(/^doctor_job_csrf=[A-Za-z0-9_-]{43}; Path=\/api\/jobs; HttpOnly; SameSite=Strict$/);
  });
});

eachDialect('Dashboard under the Fastify adapter', (dialect) => {
  let db: TestDatabase;
  let app: DashboardApp;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await startDashboardApp(db, DoctorJobDashboardModule.forRoot({ path: 'jobs', guards: [TokenGuard] }), { providers: [AccessJobs, TokenGuard], adapter: 'fastify' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it('serves the pages and assets with their headers, guards them, and takes a JSON and a form action with the CSRF token', async () => {
    await app.enqueue('acc-fail');
    await app.enqueue('acc-fail');
    await app.tester.drain();
    const [first, second] = (await app.admin.listDeadLetters()).items.map((d) => d.id);
    await app.http.get('/jobs').expect(401);
    const auth = (r: ReturnType<DashboardApp['http']['get']>) => r.set('authorization', 'Bearer let-me-in');
    for (const path of ['/jobs', '/jobs/jobs', '/jobs/dead-letters', `/jobs/dead-letters/${first}`]) {
      const page = await auth(app.http.get(path)).expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(page.headers['cache-control']).toBe('no-store');
    }
    expect((await app.http.get('/jobs/assets/dashboard.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
    expect((await auth(app.http.get('/jobs/dead-letters/999')).expect(404)).text).toContain('No dead letter has the id 999');
    expect((await auth(app.http.get('/jobs/jobs?state=nope')).expect(400)).text).toContain('state must be one of');

    const page = await auth(app.http.get('/jobs/dead-letters')).expect(200);
    const session = { cookie: String(page.headers['set-cookie']).split(';')[0], token: /name="csrf-token" content="([^"]+)"/.exec(page.text)![1] };
    expect(page.text).toContain(`data-testid="dead-letter-row-${first}"`);
    const missing = await auth(app.http.post('/jobs/actions/dead-letters/replay').set('cookie', session.cookie).send({ ids: [first] })).expect(403);
    expect(missing.body.message).toContain('CSRF token missing');
    expect(await db.countDeadLetters()).toBe(2);
    const replay = await auth(postAction(app.http, '/jobs/actions/dead-letters/replay', session, { ids: [first] })).expect(200);
    expect(replay.body).toMatchObject({ action: 'replay', count: 1 });
    const form = await auth(app.http.post('/jobs/actions/dead-letters/delete').set('cookie', session.cookie).type('form').send(`_csrf=${encodeURIComponent(session.token)}&ids=${second}`)).expect(200);
    expect(form.text).toContain('<p data-testid="result">Deleted 1 dead letter with its attempt history</p>');
    expect(await db.countDeadLetters()).toBe(0);
    expect(await db.countJobs()).toBe(1);
  });
});
