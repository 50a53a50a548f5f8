import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JETSTREAM_RELAY_HEADERS, JetStreamRelay, JobEvents, type JetStreamPubAck, type JobFailedEvent } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

const NATS_URL = 'nats://127.0.0.1:4222';
const root = resolve(__dirname, '..', '..');
const H = JETSTREAM_RELAY_HEADERS;

/** A message as the stream stores it, read back by a consumer. */
interface Stored {
  seq: number;
  subject: string;
  data: any;
  msgId: string | undefined;
  headers: Record<string, string>;
}

interface Ack {
  jobId: string;
  attempt: number;
  seq: number;
  duplicate: boolean;
}

describePostgres('JetStreamRelay against the local NATS JetStream', () => {
  const suffix = randomBytes(4).toString('hex');
  const base = `dj-js-${suffix}`;
  const streams: string[] = [];
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let db: TestDatabase;

  /** A stream of this test run (memory storage, default 2-minute duplicate window), deleted after the run. */
  async function createStream(name: string, subjects: string[]): Promise<void> {
    const stream = `DJ_${suffix}_${name}`;
    await jsm.streams.add({ name: stream, subjects, storage: StorageType.Memory });
    streams.push(stream);
  }
  const streamName = (name: string) => `DJ_${suffix}_${name}`;

  /** Everything the stream holds, in stream order, read with an ordered consumer. */
  async function readStream(name: string): Promise<Stored[]> {
    const { state } = await jsm.streams.info(streamName(name));
    if (state.messages === 0) return [];
    const consumer = await js.consumers.get(streamName(name));
    const messages = await consumer.consume();
    const stored: Stored[] = [];
    const stop = setTimeout(() => void messages.close(), 15_000);
    try {
      for await (const m of messages) {
        const headers: Record<string, string> = {};
        for (const [key, values] of m.headers ?? []) headers[key] = values[0];
        stored.push({ seq: m.seq, subject: m.subject, data: m.json(), msgId: m.headers?.get('Nats-Msg-Id'), headers });
        if (stored.length === state.messages) break;
      }
    } finally {
      clearTimeout(stop);
      await messages.close();
    }
    expect(stored).toHaveLength(state.messages);
    return stored;
  }

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL, name: `dj-js-test-${suffix}` });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    db = await createTestDatabase('postgresql');
  });
  afterAll(async () => {
    for (const stream of streams) await jsm?.streams.delete(stream).catch(() => undefined);
    await nc?.drain();
    await db?.dispose();
  });

  const drained = () => waitFor('queue empty', async () => (await db.countJobs()) === 0, 30_000, 50);

  it('publishes each job once, with Nats-Msg-Id = the job id and its headers, after the PubAck; by servers or an app-provided connection', async () => {
    await createStream('ONE', [`${base}.one.>`]);
    const acks: JetStreamPubAck[] = [];
    const app = await startOutboxApp(db, [
      { provide: 'NATS', useValue: nc },
      // By servers, the relay's own connection; the subject is the job type.
      JetStreamRelay(`${base}.one.plain`, { connection: { servers: NATS_URL }, stream: streamName('ONE'), onPubAck: (ack) => void acks.push(ack) }),
      // The app's connection under a token; the subject derived from the payload.
      JetStreamRelay('jsOrder', {
        connection: 'NATS',
        subject: (payload) => `${base}.one.orders.${(payload as { region: string }).region}`,
        orderingKey: (payload) => (payload as { key: string }).key,
        headers: () => ({ 'X-Tenant': 'acme', [H.type]: 'overridden?' }),
        onPubAck: (ack) => void acks.push(ack),
      }),
    ]);
    let ids: { plain: string[]; orders: string[] };
    try {
      ids = await app.outbox.transaction(async (tx) => ({
        plain: await app.outbox.enqueueMany(tx, [1, 2, 3].map((n) => ({ type: `${base}.one.plain`, payload: { n } }))),
        orders: await app.outbox.enqueueMany(tx, [
          { type: 'jsOrder', payload: { n: 1, key: 'o-1', region: 'eu' }, orderingKey: 'o-1' },
          { type: 'jsOrder', payload: { n: 2, key: 'o-2', region: 'us' }, orderingKey: 'o-2' },
          { type: 'jsOrder', payload: { n: 3, key: 'o-1', region: 'eu' }, orderingKey: 'o-1' },
        ]),
      }));
      await drained();
    } finally {
      await app.close();
    }
    expect(nc.isClosed()).toBe(false); // the app's connection is the app's to close

    const stored = await readStream('ONE');
    expect(stored).toHaveLength(6);
    expect(stored.map((m) => m.msgId).sort()).toEqual([...ids.plain, ...ids.orders].sort());
    expect(acks).toHaveLength(6);
    expect(acks.every((a) => a.stream === streamName('ONE') && !a.duplicate)).toBe(true);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(6);
    for (const [i, id] of ids.plain.entries()) {
      const m = stored.find((s) => s.msgId === id)!;
      expect(m).toMatchObject({ subject: `${base}.one.plain`, data: { n: i + 1 } });
      expect(m.headers).toMatchObject({ [H.jobId]: id, [H.type]: `${base}.one.plain`, [H.attempt]: '1' });
      expect(m.headers[H.orderingKey]).toBeUndefined();
    }
    const orders = ids.orders.map((id) => stored.find((s) => s.msgId === id)!);
    expect(orders.map((m) => m.subject)).toEqual([`${base}.one.orders.eu`, `${base}.one.orders.us`, `${base}.one.orders.eu`]);
    expect(orders.map((m) => m.headers[H.orderingKey])).toEqual(['o-1', 'o-2', 'o-1']);
    for (const m of orders) expect(m.headers).toMatchObject({ [H.type]: 'jsOrder', [H.attempt]: '1', 'X-Tenant': 'acme' });
    // The two jobs of key o-1 reached the stream in enqueue order.
    expect(orders[0].seq).toBeLessThan(orders[2].seq);
  });

  it('exactly once across crashes between the PubAck and the delete: workers SIGKILLed in the ack hook, restarted, each message stored once', async () => {
    await createStream('CRASH', [`${base}.crash.>`]);
    const type = 'jsCrash';
    const jobs = 6;
    // Enqueued through an app whose runner stays off: only the worker processes relay them.
    const ids = await enqueueWithoutRunner(db, type, jobs);
    const env = { DATABASE_URL: db.url, RELAY_TYPE: type, SUBJECT_PREFIX: `${base}.crash`, STREAM: streamName('CRASH'), NATS_URL, LEASE_MS: 1_500 };
    const started = Date.now();

    // Worker 1 relays jobs 1-3 and dies right after the 3rd PubAck, before job 3 is deleted.
    const w1 = await startRelayWorker('w1', { ...env, KILL_AFTER_ACKS: 3 });
    expect(await w1.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(w1.acks().map((a) => [a.jobId, a.duplicate])).toEqual([[ids[0], false], [ids[1], false], [ids[2], false]]);
    expect((await jsm.streams.info(streamName('CRASH'))).state.messages).toBe(3);
    expect(await db.countJobs()).toBe(jobs - 2); // job 3 acked by the broker, still in the queue

    // Worker 2 takes job 3 again once its lease ran out (the stream says duplicate), relays job 4 and dies after its PubAck.
    const w2 = await startRelayWorker('w2', { ...env, KILL_AFTER_ACKS: 2 });
    expect(await w2.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(w2.acks().map((a) => [a.jobId, a.attempt, a.duplicate])).toEqual([[ids[2], 2, true], [ids[3], 1, false]]);
    expect(w2.acks()[0].seq).toBe(w1.acks()[2].seq);
    expect((await jsm.streams.info(streamName('CRASH'))).state.messages).toBe(4);
    expect(await db.countJobs()).toBe(jobs - 3);

    // Worker 3 is left alone: job 4 again (duplicate), then 5 and 6.
    const w3 = await startRelayWorker('w3', env);
    try {
      await drained();
    } finally {
      await w3.stop();
    }
    expect(w3.acks().map((a) => [a.jobId, a.duplicate])).toEqual([[ids[3], true], [ids[4], false], [ids[5], false]]);

    const stored = await readStream('CRASH');
    expect(stored.map((m) => m.msgId)).toEqual(ids); // each job once, in enqueue order (one ordering key)
    expect(stored.map((m) => m.data.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stored.every((m) => m.headers[H.attempt] === '1' && m.headers[H.orderingKey] === 'k')).toBe(true);
    expect(await db.countDeadLetters()).toBe(0);
    const all = [...w1.acks(), ...w2.acks(), ...w3.acks()];
    const windowMs = (await jsm.streams.info(streamName('CRASH'))).config.duplicate_window / 1e6;
    console.log(
      `[jetstream crash] ${jobs} jobs, 2 SIGKILLs between PubAck and delete, 3 workers: ${all.length} PubAcks, ` +
        `${all.filter((a) => a.duplicate).length} duplicates (not stored), ${stored.length} messages in the stream; ${Date.now() - started} ms from the first start to the drain, duplicate window ${windowMs} ms`,
    );
  });

  it('consumers see the messages of each ordering key in enqueue order (concurrency 8, 3 keys × 10 + 5 unkeyed)', async () => {
    await createStream('ORDER', [`${base}.order.>`]);
    const keys = ['k-1', 'k-2', 'k-3'];
    const perKey = 10;
    const app = await startOutboxApp(
      db,
      [
        JetStreamRelay('jsOrdered', {
          connection: { servers: NATS_URL },
          subject: (payload) => `${base}.order.${(payload as { key: string | null }).key ?? 'none'}`,
          stream: streamName('ORDER'),
          orderingKey: (payload) => (payload as { key: string | null }).key,
        }),
      ],
      { concurrency: 8, batchSize: 8 },
    );
    try {
      const jobs: { type: string; payload: { key: string | null; n: number }; orderingKey?: string }[] = [];
      for (let n = 1; n <= perKey; n++) for (const key of keys) jobs.push({ type: 'jsOrdered', payload: { key, n }, orderingKey: key });
      for (let n = 1; n <= 5; n++) jobs.push({ type: 'jsOrdered', payload: { key: null, n } });
      for (let i = 0; i < jobs.length; i += 7) await app.outbox.transaction((tx) => app.outbox.enqueueMany(tx, jobs.slice(i, i + 7)));
      await drained();
    } finally {
      await app.close();
    }
    const stored = await readStream('ORDER');
    expect(stored).toHaveLength(keys.length * perKey + 5);
    expect(new Set(stored.map((m) => m.msgId)).size).toBe(stored.length);
    for (const key of keys) {
      const ofKey = stored.filter((m) => m.data.key === key);
      expect(ofKey.map((m) => m.data.n)).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
      expect(ofKey.every((m) => m.subject === `${base}.order.${key}` && m.headers[H.orderingKey] === key)).toBe(true);
    }
    expect(stored.filter((m) => m.data.key === null).map((m) => m.data.n).sort()).toEqual([1, 2, 3, 4, 5]);
    const switches = stored.filter((m, i) => i > 0 && m.data.key !== stored[i - 1].data.key).length;
    console.log(`[jetstream order] ${stored.length} messages, the key changes ${switches} times along the stream`);
  });

  it('no stream for the subject: a clear error naming the subject and how to create the stream; the job is retried and relayed once the stream exists', async () => {
    const subject = `${base}-late.orders`;
    const failures: JobFailedEvent[] = [];
    const app = await startOutboxApp(db, [
      JetStreamRelay('jsLate', { connection: { servers: NATS_URL }, subject, stream: streamName('LATE'), maxAttempts: 50, backoff: { baseMs: 200, maxMs: 200, jitter: 0 } }),
    ]);
    app.module.get(JobEvents).on('job.failed', (event) => void failures.push(event));
    try {
      const id = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'jsLate', { n: 1 }));
      await waitFor('a failed attempt', () => failures.length > 0, 15_000);
      const message = failures[0].error.message;
      expect(message).toContain(`no JetStream stream captures the subject "${subject}"`);
      expect(message).toContain(`nats stream add ${streamName('LATE')} --subjects "${subject}"`);
      expect(await db.countJobs()).toBe(1);
      expect(await db.countDeadLetters()).toBe(0);

      await createStream('LATE', [subject]);
      await drained();
      const stored = await readStream('LATE');
      expect(stored).toHaveLength(1);
      expect(stored[0].msgId).toBe(id);
      expect(Number(stored[0].headers[H.attempt])).toBeGreaterThanOrEqual(2);
      expect(Number(stored[0].headers[H.attempt])).toBe(failures.length + 1);
      expect(await db.countDeadLetters()).toBe(0);
      console.log(`[jetstream no stream] ${failures.length} failed attempt(s) before the stream existed; relayed on attempt ${stored[0].headers[H.attempt]}`);
    } finally {
      await app.close();
    }
  });

  it('no PubAck in time, a subject another stream captures, NATS unreachable: each a clear error, retried with the same Nats-Msg-Id, then dead-lettered', async () => {
    await createStream('OTHER', [`${base}.other.>`]);
    const silent = `${base}-silent.x`;
    const requests: (string | undefined)[] = [];
    const subscription = nc.subscribe(silent, { callback: (_err, msg) => void requests.push(msg.headers?.get('Nats-Msg-Id')) });
    await nc.flush();
    const fast = { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } };
    const app = await startOutboxApp(db, [
      // A responder that never answers: the request gets no PubAck.
      JetStreamRelay('jsSilent', { connection: { servers: NATS_URL }, subject: silent, ackTimeoutMs: 300, ...fast }),
      JetStreamRelay('jsWrongStream', { connection: { servers: NATS_URL }, subject: `${base}.other.x`, stream: streamName('NOPE'), ...fast }),
      JetStreamRelay('jsDown', { connection: { servers: 'nats://127.0.0.1:1', reconnect: false }, ...fast }),
    ]);
    try {
      const id = await app.outbox.transaction(async (tx) => {
        const silentId = await app.outbox.enqueue(tx, 'jsSilent', { n: 1 });
        await app.outbox.enqueue(tx, 'jsWrongStream', { n: 2 });
        await app.outbox.enqueue(tx, 'jsDown', { n: 3 });
        return silentId;
      });
      await waitFor('three dead letters', async () => (await db.countDeadLetters()) === 3, 30_000, 50);
      const letters = Object.fromEntries((await app.deadLetters.list()).items.map((l) => [l.type, l]));
      expect(letters.jsSilent).toMatchObject({ attempts: 2, payload: { n: 1 } });
      expect(letters.jsSilent.errorMessage).toContain(`publishing job message ${id} to "${silent}": no PubAck within 300 ms (ackTimeoutMs)`);
      expect(requests).toEqual([id, id]); // the retry carried the same message id
      expect(letters.jsWrongStream.attempts).toBe(2);
      expect(letters.jsWrongStream.errorMessage).toContain(
        `the subject is captured by stream "${streamName('OTHER')}", not by the expected stream "${streamName('NOPE')}"`,
      );
      expect((await jsm.streams.info(streamName('OTHER'))).state.messages).toBe(0);
      expect(letters.jsDown.attempts).toBe(2);
      expect(letters.jsDown.errorMessage).toMatch(/^JetStreamRelay\(jsDown\): cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
      console.log(`[jetstream failures] unreachable NATS says: ${letters.jsDown.errorMessage}`);
    } finally {
      await app.close();
      subscription.unsubscribe();
    }
  });

  it('importing doctor-job loads no NATS package; the relay without them says what to install; bad options fail at once', async () => {
    const script = `
      const Module = require('node:module');
      const resolveFilename = Module._resolveFilename;
      const asked = [];
      Module._resolveFilename = function (request, ...rest) {
        if (request.startsWith('@nats-io/')) {
          asked.push(request);
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        return resolveFilename.call(this, request, ...rest);
      };
      require('reflect-metadata');
      const lib = require('./lib/index.ts');
      const loadedByImport = asked.length;
      const Relay = lib.JetStreamRelay('x', { connection: { servers: 'nats://127.0.0.1:4222' } });
      let message;
      try { new Relay({}).onModuleInit(); } catch (error) { message = error.message; }
      process.stdout.write(JSON.stringify({ loadedByImport, message }));
    `;
    const { code, stdout, stderr } = await runNode(['-r', '@swc-node/register', '-e', script]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(JSON.parse(stdout)).toEqual({
      loadedByImport: 0,
      message: expect.stringContaining('JetStreamRelay needs the package @nats-io/jetstream: npm install @nats-io/jetstream@^3.4.0'),
    });

    expect(() => JetStreamRelay('x', { connection: { servers: NATS_URL }, subject: 'orders.*' })).toThrow(/without wildcards/);
    expect(() => JetStreamRelay('x', { connection: { servers: NATS_URL }, ackTimeoutMs: 0 })).toThrow(/"ackTimeoutMs" must be a positive integer/);
    expect(() => JetStreamRelay('has space', { connection: { servers: NATS_URL } })).toThrow(/must not contain whitespace/);
  });
});

/** Enqueues `count` jobs of one ordering key ("k"), payload { key, n }, through an app whose runner stays off. */
async function enqueueWithoutRunner(db: TestDatabase, type: string, count: number): Promise<string[]> {
  // The relay is registered (enqueue checks the type has a handler) but never runs here.
  const app: OutboxApp = await startOutboxApp(db, [JetStreamRelay(type, { connection: { servers: NATS_URL } })], { autoStart: false });
  try {
    return await app.outbox.transaction((tx) =>
      app.outbox.enqueueMany(tx, Array.from({ length: count }, (_, i) => ({ type, payload: { key: 'k', n: i + 1 }, orderingKey: 'k' }))),
    );
  } finally {
    await app.close();
  }
}

interface RelayWorker {
  child: ChildProcessWithoutNullStreams;
  /** The exit (fails after 60 s). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  acks(): Ack[];
  output(): string;
  /** SIGTERM, and the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts test/support/jetstream-relay-worker.ts and waits until its runner runs. */
async function startRelayWorker(name: string, env: Record<string, string | number>): Promise<RelayWorker> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/support/jetstream-relay-worker.ts'], {
    cwd: root,
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.sample.json', NO_COLOR: '1', ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      gone = true;
      done({ code, signal });
    }),
  );
  // A worker told to die may do so before its READY line is out: its PubAcks count as started.
  await waitFor(`worker ${name} ready`, () => {
    if (output.includes('READY ') || (gone && output.includes('ACK '))) return true;
    if (gone) throw new Error(`worker ${name} exited before it was ready:\n${output}`);
    return false;
  }, 60_000, 50);
  const acks = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('ACK '))
      .map((line) => {
        const [, jobId, attempt, seq, duplicate] = line.split(' ');
        return { jobId, attempt: Number(attempt), seq: Number(seq), duplicate: duplicate === 'true' };
      });
  const timeout = <T>(what: string, promise: Promise<T>) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} (worker ${name}):\n${output}`)), 60_000).unref())]);
  return {
    child,
    exited: () => timeout('did not exit', exited),
    acks,
    output: () => output,
    stop: () => {
      if (!gone) child.kill('SIGTERM');
      return timeout('did not stop', exited);
    },
  };
}

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.sample.json' }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}
