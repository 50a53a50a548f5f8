import { networkInterfaces } from 'node:os';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { waitFor } from '../support/wait';
import { describeBrowser, launchChromium, type Chromium } from './support/chromium';
import { startSampleServer, type SampleServer } from './support/sample-server';

/** A non-loopback IPv4 address of this machine, to reach the sample as a remote browser would. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describeBrowser('the read-only dashboard (the sample without DASHBOARD_TOKEN) in a real browser', () => {
  let db: TestDatabase;
  let sample: SampleServer;
  let chromium: Chromium;
  let letter: string;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    sample = await startSampleServer(db); // every interface, as main.ts listens
    chromium = await launchChromium();
    await fetch(`${sample.url}/splines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'terrain' }) });
    await waitFor('a dead letter', async () => (await sample.admin.countDeadLetters()) === 1, 30_000);
    letter = (await sample.admin.listDeadLetters()).items[0].id;
  });
  afterAll(async () => {
    await chromium?.close();
    await sample?.close();
    await db?.dispose();
  });

  it('shows a dead letter to a loopback client with no action, and refuses an action with 403', async () => {
    const page = await chromium.context.newPage();
    const response = await page.goto(`${sample.url}/jobs/dead-letters/${letter}`);
    expect(response?.status()).toBe(200);
    await expect(page.getByTestId('error').textContent()).resolves.toBe('Reticulating splines for "terrain" is not implemented yet');
    await expect(page.locator('[data-testid="replay"], [data-testid="delete"], [data-testid="bulk-replay"], [data-testid="pause"]').count()).resolves.toBe(0);
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const action = await page.request.post(`${sample.url}/jobs/actions/dead-letters/delete`, { form: { ids: letter }, headers: { 'x-csrf-token': csrf ?? '' } });
    expect(action.status()).toBe(403);
    expect(await sample.admin.countDeadLetters()).toBe(1);
  });

  (externalAddress ? it : it.skip)('answers 403 to a browser that is not on loopback', async () => {
    const page = await chromium.context.newPage();
    const response = await page.goto(`http://${externalAddress}:${sample.port}/jobs`);
    expect(response?.status()).toBe(403);
    await expect(page.locator('body').innerText()).resolves.toContain('loopback clients only');
  });
});
