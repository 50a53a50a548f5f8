import { networkInterfaces } from 'node:os';
import { SESSION_COOKIE, ConsoleSessions, SESSION_TTL_MS } from '../../sample/console/console-session';
import { startSampleServer, type SampleServer } from '../browser/support/sample-server';
import { createTestDatabase, type TestDatabase } from '../support/databases';

const TOKEN = 'sample-console-token-0123456789abcdef';

/** A non-loopback IPv4 address of this machine, to reach the app as a remote client would. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

const messageOf = async (response: Response) => ((await response.json()) as { message: unknown }).message;

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

describe('the sample console at /jobs with DASHBOARD_TOKEN set', () => {
  let db: TestDatabase;
  let sample: SampleServer;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    sample = await startSampleServer(db, { dashboardToken: TOKEN, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await sample?.close();
    await db?.dispose();
  });

  it('answers 401 without the token, saying how to sign in (JSON to a client that asks for it, a page to a browser)', async () => {
    const json = { accept: 'application/json' };
    const api = await fetch(`${sample.url}/jobs`, { headers: json });
    expect(api.status).toBe(401);
    expect(await messageOf(api)).toBe('The console needs a sign-in: send Authorization: Bearer <DASHBOARD_TOKEN>, or sign in at /jobs/login.');
    const browser = await fetch(`${sample.url}/jobs/dead-letters`, { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(401);
    expect(browser.headers.get('content-type')).toContain('text/html');
    const refusedPage = await browser.text();
    expect(refusedPage).toContain('sign in at /jobs/login.');
    expect(refusedPage).toContain('<a href="/jobs/login">Sign in</a>'); // signInUrl: not a "Back" into pages that answer 401 again
    expect((await fetch(`${sample.url}/jobs`, { headers: { ...json, authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${sample.url}/jobs`, { headers: { ...json, authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    const action = await fetch(`${sample.url}/jobs/actions/pause`, { method: 'POST', headers: { ...json, 'content-type': 'application/json' }, body: '{"type":"reticulateSplines"}' });
    expect(action.status).toBe(401);
    expect((await sample.admin.stats()).paused).toEqual([]);
  });

  it('lets a Bearer token through', async () => {
    const response = await fetch(`${sample.url}/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('signs in at /jobs/login: a wrong token gets 401 and no cookie, the right one an HttpOnly SameSite=Strict cookie and a redirect to /jobs', async () => {
    const page = await fetch(`${sample.url}/jobs/login`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/);
    expect(await page.text()).toContain('<form method="post" action="/jobs/login">');

    const wrong = await fetch(`${sample.url}/jobs/login`, form({ token: 'not-the-token-at-all' }));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That is not the console token. Nothing was signed in.');

    const right = await fetch(`${sample.url}/jobs/login`, form({ token: TOKEN }));
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/jobs');
    const setCookie = right.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[\\w-]+\\.[\\w-]+; Max-Age=${SESSION_TTL_MS / 1000}; Path=/jobs; HttpOnly; SameSite=Strict$`));
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0];
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie } })).status).toBe(200);

    // A cookie whose signature was changed, or one that has expired, signs nothing in.
    const tampered = cookie.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie: tampered } })).status).toBe(401);
    const expired = new ConsoleSessions(TOKEN, () => Date.now() - SESSION_TTL_MS - 1_000).issue();
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie: `${SESSION_COOKIE}=${expired}` } })).status).toBe(401);
    const otherToken = new ConsoleSessions(`${TOKEN}-other`).issue();
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie: `${SESSION_COOKIE}=${otherToken}` } })).status).toBe(401);
  });

  it('signs out at POST /jobs/logout from its own page: the cookie is cleared, /jobs answers 401 again; a cross-site sign-out is refused', async () => {
    const signIn = await fetch(`${sample.url}/jobs/login`, form({ token: TOKEN }));
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie } })).status).toBe(200);
    // Signed in, the sign-in page offers the sign-out button instead of the form.
    const signedIn = await (await fetch(`${sample.url}/jobs/login`, { headers: { cookie } })).text();
    expect(signedIn).toContain('<form method="post" action="/jobs/logout"><button type="submit" data-testid="sign-out">Sign out</button></form>');
    expect(signedIn).not.toContain('id="token"');

    // Another site's form (or a client that says nowhere) cannot sign anyone out.
    const logout = (headers: Record<string, string>) => fetch(`${sample.url}/jobs/logout`, { ...form({}), headers: { ...form({}).headers, cookie, ...headers } });
    const forged: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site', origin: sample.url }, {}];
    for (const headers of forged) {
      const refused = await logout(headers);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect(await refused.text()).toContain("Sign-out refused: the request did not come from one of this console's pages");
    }

    const signedOut = await logout({ origin: sample.url });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/jobs/login');
    // The same cookie, empty and expired at once, on the same path: the browser drops it.
    expect(signedOut.headers.get('set-cookie')).toBe(`${SESSION_COOKIE}=; Max-Age=0; Path=/jobs; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict`);
    const cleared = signedOut.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${sample.url}/jobs`, { headers: { cookie: cleared, accept: 'application/json' } })).status).toBe(401);
    expect(await (await fetch(`${sample.url}/jobs/login`, { headers: { cookie: cleared } })).text()).toContain('id="token"');
    // A browser sends Sec-Fetch-Site: same-origin from the console's own page; that is enough.
    expect((await logout({ 'sec-fetch-site': 'same-origin' })).status).toBe(303);
  });

  it('answers a sign-in without a token field, or with fields it does not know, with 400 saying what was wrong', async () => {
    const empty = await fetch(`${sample.url}/jobs/login`, form({}));
    expect(empty.status).toBe(400);
    expect(await messageOf(empty)).toEqual(['token must be shorter than or equal to 4096 characters', 'token must be a string']);
    const extra = await fetch(`${sample.url}/jobs/login`, form({ token: TOKEN, admin: 'yes' }));
    expect(extra.status).toBe(400);
    expect(await messageOf(extra)).toEqual(['property admin should not exist']);
  });

  it('refuses to start with a DASHBOARD_TOKEN shorter than 16 characters', async () => {
    await expect(startSampleServer(db, { dashboardToken: 'short' })).rejects.toThrow(
      'DASHBOARD_TOKEN must be at least 16 characters with no surrounding spaces (got 5 characters); generate one with `openssl rand -hex 32`',
    );
  });
});

describe('the sample console at /jobs without DASHBOARD_TOKEN', () => {
  let db: TestDatabase;
  let sample: SampleServer;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    sample = await startSampleServer(db); // every interface, as main.ts listens
  });
  afterAll(async () => {
    await sample?.close();
    await db?.dispose();
  });

  it('serves loopback clients, read-only', async () => {
    const response = await fetch(`${sample.url}/jobs`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).not.toMatch(/data-testid="(pause|resume|replay|delete|cancel|run-now|bulk-replay|bulk-delete)"/);
    // An action with a valid CSRF token and cookie is still refused: the console is read-only.
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    const action = await fetch(`${sample.url}/jobs/actions/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}), ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ type: 'reticulateSplines' }),
    });
    expect(action.status).toBe(403);
    expect(await action.text()).toContain('read-only');
    expect((await sample.admin.stats()).paused).toEqual([]);
  });

  it('has no sign-in: /jobs/login (and /jobs/logout) is a 404 page saying why, what to set, and linking to the read-only console', async () => {
    const answers = [
      await fetch(`${sample.url}/jobs/login`),
      await fetch(`${sample.url}/jobs/login`, form({ token: 'anything-at-all-0123' })),
      await fetch(`${sample.url}/jobs/logout`, { ...form({}), headers: { ...form({}).headers, origin: sample.url } }),
    ];
    for (const response of answers) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const text = await response.text();
      expect(text).toContain('Signing in is off: DASHBOARD_TOKEN is not set, so /jobs is read-only for loopback clients. Set DASHBOARD_TOKEN to sign in.');
      expect(text).toContain('<a href="/jobs">Open the read-only console</a>');
      expect(text).not.toContain('<form');
    }
  });

  (externalAddress ? it : it.skip)(`answers 403 to a client that is not on loopback (this machine's ${externalAddress ?? 'no'} non-loopback address)`, async () => {
    const response = await fetch(`http://${externalAddress}:${sample.port}/jobs`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(403);
    expect(await messageOf(response)).toContain('DASHBOARD_TOKEN is not set, so the console answers loopback clients only');
    // The rest of the sample is not behind the console's guard.
    expect((await fetch(`http://${externalAddress}:${sample.port}/health`)).status).toBe(200);
  });
});
