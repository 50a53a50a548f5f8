import { Injectable, Module, Scope, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import { IsString } from 'class-validator';
import {
  DOCTOR_JOB_RUNNER_NAME,
  DoctorJobModule,
  type DoctorJobOptionsFactory,
  HandlerRegistrationError,
  InvalidOptionsError,
  JobHandler,
  OutboxService,
  type PrismaClientLike,
} from 'doctor-job';
import { createPrismaClient } from '../../sample/database/prisma.service';
import { CapturedLogs } from '../support/outbox-app';

// Wiring tests on a real, in-memory SQLite database.
let client: PrismaClientLike & { $disconnect(): Promise<void> };
beforeAll(async () => {
  client = await createPrismaClient('file::memory:');
});
afterAll(() => client.$disconnect());

class Greeting {
  @IsString()
  name!: string;
}

@Injectable()
class MailJobs {
  @JobHandler('mail.send', { payload: Greeting, maxAttempts: 3 })
  send() {}

  @JobHandler('mail.digest')
  digest() {}

  notAHandler() {}
}

@Injectable()
class OtherMailJobs {
  @JobHandler('mail.send')
  alsoSend() {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedJobs {
  @JobHandler('per.request')
  run() {}
}

async function boot(providers: Provider[], logs = new CapturedLogs()) {
  const module = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: client, autoStart: false })],
    providers,
  })
    .setLogger(logs)
    .compile();
  await module.init();
  return module;
}

/** The types an app knows are listed by the error for an unknown type. */
async function registeredTypes(outbox: OutboxService<Record<string, any>>): Promise<string> {
  return outbox
    .transaction((tx) => outbox.enqueue(tx, 'nope', {}))
    .then(
      () => 'enqueued',
      (error: Error) => error.message,
    );
}

describe('handler discovery', () => {
  it('finds @JobHandler methods on providers with DiscoveryService + MetadataScanner', async () => {
    const module = await boot([MailJobs]);
    expect(await registeredTypes(module.get(OutboxService))).toContain('Registered types: "mail.digest", "mail.send".');
    await module.close();
  });

  it('fails start-up when two handlers claim one type, naming both', async () => {
    await expect(boot([MailJobs, OtherMailJobs])).rejects.toThrow(HandlerRegistrationError);
    await expect(boot([MailJobs, OtherMailJobs])).rejects.toThrow(
      'Two @JobHandler methods handle job type "mail.send": MailJobs.send and OtherMailJobs.alsoSend.',
    );
  });

  it('skips a handler on a request-scoped provider with a warning naming it', async () => {
    const logs = new CapturedLogs();
    const module = await boot([MailJobs, RequestScopedJobs], logs);
    expect(logs.of('warn').join('\n')).toContain('@JobHandler("per.request") on RequestScopedJobs.run is skipped: the provider is request-scoped');
    expect(await registeredTypes(module.get(OutboxService))).toContain('Registered types: "mail.digest", "mail.send".');
    await module.close();
  });

  it('fails start-up when the payload DTO has no class-validator decorators', async () => {
    class Plain {
      name!: string;
    }
    @Injectable()
    class PlainJobs {
      @JobHandler('plain', { payload: Plain })
      run() {}
    }
    await expect(boot([PlainJobs])).rejects.toThrow('"payload" is Plain, which has no class-validator decorators');
  });

  it('fails start-up on an invalid cron expression, or a cron handler with a payload DTO', async () => {
    @Injectable()
    class BadCron {
      @JobHandler('bad.cron', { cron: 'every tuesday' })
      run() {}
    }
    await expect(boot([BadCron])).rejects.toThrow(/"cron" is not a valid cron expression \("every tuesday"\)/);
    @Injectable()
    class CronWithDto {
      @JobHandler('cron.dto', { cron: '0 * * * *', payload: Greeting })
      run() {}
    }
    await expect(boot([CronWithDto])).rejects.toThrow('"cron" and "payload" do not go together');
  });

  it('fails start-up on an invalid timeout or concurrency', async () => {
    @Injectable()
    class LimitJobs {
      @JobHandler('limits', { timeoutMs: -1, concurrency: 1.5 })
      run() {}
    }
    await expect(boot([LimitJobs])).rejects.toThrow(
      /"timeoutMs" must be a positive integer \(at most 2147483647\), got -1\n  - "concurrency" must be a positive integer \(at most 2147483647\), got 1.5/,
    );
  });

  it('fails start-up on invalid handler options', async () => {
    @Injectable()
    class BadJobs {
      @JobHandler('bad', { maxAttempts: 0, backoff: { jitter: -1 } })
      run() {}
    }
    await expect(boot([BadJobs])).rejects.toThrow(
      /Invalid @JobHandler on BadJobs.run:\n  - "maxAttempts" must be a positive integer, got 0\n  - "backoff.jitter" must be a number from 0 to 1, got -1/,
    );
  });
});

describe('DoctorJobModule', () => {
  abstract class PrismaService {}

  @Module({ providers: [{ provide: PrismaService, useFactory: () => client }], exports: [PrismaService] })
  class PrismaModule {}

  it('forRoot takes the DI token of the Prisma provider, from any module', async () => {
    const module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), PrismaModule, DoctorJobModule.forRoot({ prisma: PrismaService, autoStart: false })],
      providers: [MailJobs],
    }).compile();
    await module.init();
    expect(module.get(OutboxService)).toBeInstanceOf(OutboxService);
    await module.close();
  });

  it('forRootAsync builds the options with injected providers', async () => {
    const module = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        DoctorJobModule.forRootAsync({
          imports: [PrismaModule],
          inject: [PrismaService],
          useFactory: (prisma: PrismaClientLike) => ({ prisma, autoStart: false }),
        }),
      ],
    }).compile();
    await module.init();
    expect(module.get(OutboxService)).toBeInstanceOf(OutboxService);
    await module.close();
  });

  it('forRootAsync takes a class that builds the options (useClass)', async () => {
    @Injectable()
    class OptionsFromConfig implements DoctorJobOptionsFactory {
      createDoctorJobOptions() {
        return { prisma: client, autoStart: false, concurrency: 3 };
      }
    }
    const module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRootAsync({ useClass: OptionsFromConfig })],
    }).compile();
    await module.init();
    expect(module.get(OutboxService)).toBeInstanceOf(OutboxService);
    await module.close();
  });

  it('fails at start-up on invalid options, saying which and why', async () => {
    await expect(
      Test.createTestingModule({ imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: client, leaseMs: 0 })] }).compile(),
    ).rejects.toThrow(new InvalidOptionsError(['"leaseMs" must be a positive integer, got 0']));
  });

  it('fails at start-up when the prisma token has no provider', async () => {
    const module = await Test.createTestingModule({ imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: 'NoSuchPrisma', autoStart: false })] }).compile();
    await expect(module.init()).rejects.toThrow('"prisma" is the token NoSuchPrisma, but no provider is registered for it.');
  });

  it('fails at start-up without ScheduleModule.forRoot(), saying what to add', async () => {
    const module = await Test.createTestingModule({ imports: [DoctorJobModule.forRoot({ prisma: client })] }).compile();
    await expect(module.init()).rejects.toThrow('Add ScheduleModule.forRoot() to the imports of your AppModule');
  });

  it("shares the app's ScheduleModule: the app's own timers fire once", async () => {
    @Injectable()
    class AppTimers {
      fired = 0;
      @Timeout(10)
      once() {
        this.fired++;
      }
    }
    const module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: client, autoStart: false })],
      providers: [AppTimers],
    }).compile();
    await module.init();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(module.get(AppTimers).fired).toBe(1);
    await module.close();
  });

  it('registers the runner in SchedulerRegistry by name while it runs', async () => {
    const module = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: client, pollIntervalMs: 60_000 })],
    }).compile();
    await module.init();
    const registry = module.get(SchedulerRegistry);
    expect(registry.getIntervals()).toContain(DOCTOR_JOB_RUNNER_NAME);
    await module.close();
    expect(registry.getIntervals()).not.toContain(DOCTOR_JOB_RUNNER_NAME);
  });
});

describe('DoctorJobModule with a wrong prisma option', () => {
  it('says what the object lacks when it is not a Prisma client', async () => {
    const module = await Test.createTestingModule({ imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: {} as never, autoStart: false })] }).compile();
    await expect(module.init()).rejects.toThrow(
      '"prisma" resolved to an object, which is not a Prisma client ($transaction, $queryRawUnsafe and $executeRawUnsafe are required).',
    );
  });
});
