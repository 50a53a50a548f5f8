import { DEFAULT_OPTIONS, resolveOptions } from './doctor-job.options';
import { InvalidOptionsError } from './errors/invalid-options.error';

class PrismaService {}

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const options = resolveOptions({ prisma: PrismaService });
    expect(options).toEqual({
      prisma: PrismaService,
      dialect: undefined,
      pollIntervalMs: 1000,
      batchSize: 20,
      concurrency: 10,
      leaseMs: 60000,
      maxAttempts: 5,
      backoff: { baseMs: 1000, maxMs: 3600000, jitter: 0.5 },
      shutdownTimeoutMs: 10000,
      autoStart: true,
      notify: true,
      runnerPool: true,
      reindex: { minBytes: 8 * 1024 * 1024, factor: 4, intervalMs: 30000 },
      logSuccesses: false,
    });
    expect(options).toEqual({ prisma: PrismaService, dialect: undefined, ...DEFAULT_OPTIONS });
  });

  it('keeps a default when an option is given as undefined', () => {
    expect(resolveOptions({ prisma: PrismaService, pollIntervalMs: undefined, backoff: { maxMs: undefined, baseMs: 5 } })).toMatchObject({
      pollIntervalMs: 1000,
      backoff: { baseMs: 5, maxMs: 3600000, jitter: 0.5 },
    });
  });

  it('takes notify as a boolean or a connection string, nothing else', () => {
    expect(resolveOptions({ prisma: PrismaService, notify: { connectionString: 'postgresql://x' } }).notify).toEqual({ connectionString: 'postgresql://x' });
    expect(() => resolveOptions({ prisma: PrismaService, notify: 'yes' as never })).toThrow(
      '"notify" must be true, false or { connectionString: string }, got "yes"',
    );
  });

  it('takes runnerPool as a boolean or { connectionString?, max?, preparedStatements? }, and names what is wrong', () => {
    expect(resolveOptions({ prisma: PrismaService, runnerPool: { max: 4 } }).runnerPool).toEqual({ max: 4 });
    expect(resolveOptions({ prisma: PrismaService, runnerPool: { preparedStatements: false } }).runnerPool).toEqual({ preparedStatements: false });
    expect(() => resolveOptions({ prisma: PrismaService, runnerPool: { preparedStatements: 'no' } as never })).toThrow(
      '"runnerPool.preparedStatements" must be true or false, got "no"',
    );
    expect(resolveOptions({ prisma: PrismaService, runnerPool: false }).runnerPool).toBe(false);
    expect(() => resolveOptions({ prisma: PrismaService, runnerPool: 'pg' as never })).toThrow(
      '"runnerPool" must be true, false or { connectionString?: string, max?: number, preparedStatements?: boolean }, got "pg"',
    );
    expect(() => resolveOptions({ prisma: PrismaService, runnerPool: { max: 0, size: 3, connectionString: 5 } as never })).toThrow(
      /"runnerPool.size" is not an option \(known: connectionString, max, preparedStatements\)[\s\S]*"runnerPool.connectionString" must be a string, got 5[\s\S]*"runnerPool.max" must be a positive integer, got 0/,
    );
  });

  it("refuses delays that Node's timers cannot hold", () => {
    expect(() => resolveOptions({ prisma: PrismaService, pollIntervalMs: 2 ** 31, shutdownTimeoutMs: 2 ** 40 })).toThrow(
      /"pollIntervalMs" must be at most 2147483647, got 2147483648[\s\S]*"shutdownTimeoutMs" must be at most 2147483647/,
    );
  });

  it('merges a partial backoff over the default backoff', () => {
    expect(resolveOptions({ prisma: PrismaService, backoff: { baseMs: 10 } }).backoff).toEqual({ ...DEFAULT_OPTIONS.backoff, baseMs: 10 });
  });

  it('takes reindex as a boolean or thresholds over the defaults, and names a bad threshold', () => {
    expect(resolveOptions({ prisma: PrismaService, reindex: false }).reindex).toBe(false);
    expect(resolveOptions({ prisma: PrismaService, reindex: true }).reindex).toEqual(DEFAULT_OPTIONS.reindex);
    expect(resolveOptions({ prisma: PrismaService, reindex: { minBytes: 1024 } }).reindex).toEqual({ minBytes: 1024, factor: 4, intervalMs: 30000 });
    expect(() => resolveOptions({ prisma: PrismaService, reindex: 'auto' as never })).toThrow(
      '"reindex" must be true, false or { minBytes?, factor?, intervalMs? }, got "auto"',
    );
    expect(() => resolveOptions({ prisma: PrismaService, reindex: { factor: 0.5, minBytes: -1, every: 5 } as never })).toThrow(
      /"reindex.every" is not an option \(known: minBytes, factor, intervalMs\)[\s\S]*"reindex.minBytes" must be a positive integer, got -1[\s\S]*"reindex.factor" must be a number of 1 or more, got 0.5/,
    );
  });

  it('names every invalid option and says why', () => {
    let error: unknown;
    try {
      resolveOptions({ prisma: PrismaService, pollIntervalMs: -5, concurrency: 1.5, dialect: 'oracle' as never, backoff: { jitter: 2 }, batchSize: '10' as never });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const message = (error as Error).message;
    expect(message).toContain('"pollIntervalMs" must be a positive integer, got -5');
    expect(message).toContain('"concurrency" must be a positive integer, got 1.5');
    expect(message).toContain('"dialect" must be one of postgresql, sqlite');
    expect(message).toContain('"backoff.jitter" must be a number from 0 to 1, got 2');
    expect(message).toContain('"batchSize" must be a positive integer, got "10"');
    expect((error as InvalidOptionsError).problems).toHaveLength(5);
  });

  it('refuses a missing prisma, unknown keys and a cap below the base', () => {
    expect(() => resolveOptions({ pollInterval: 5 } as never)).toThrow(/"pollInterval" is not an option[\s\S]*"prisma" is required/);
    expect(() => resolveOptions({ prisma: PrismaService, backoff: { baseMs: 500, maxMs: 100 } })).toThrow(
      '"backoff.maxMs" (100) must not be below "backoff.baseMs" (500)',
    );
  });
});
