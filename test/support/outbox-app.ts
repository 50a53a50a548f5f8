import type { LoggerService, Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { DeadLetterService, DoctorJobModule, OutboxRunner, OutboxService, type DoctorJobOptions } from 'doctor-job';
import type { TestDatabase } from './databases';

/** Any job type, any payload: the tests enqueue types of their own. */
export type AnyJobs = Record<string, any>;

export interface OutboxApp {
  module: TestingModule;
  outbox: OutboxService<AnyJobs>;
  deadLetters: DeadLetterService;
  runner: OutboxRunner;
  scheduler: SchedulerRegistry;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/** Collects what the app logs, so tests can assert on warnings without poking private fields. */
export class CapturedLogs implements LoggerService {
  readonly entries: { level: string; message: string; context?: string }[] = [];
  log(message: unknown, context?: string) { this.add('log', message, context); }
  error(message: unknown, _stack?: string, context?: string) { this.add('error', message, context); }
  warn(message: unknown, context?: string) { this.add('warn', message, context); }
  debug(message: unknown, context?: string) { this.add('debug', message, context); }
  verbose(message: unknown, context?: string) { this.add('verbose', message, context); }
  of(level: string): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
  private add(level: string, message: unknown, context?: string) {
    this.entries.push({ level, message: String(message), context });
  }
}

/**
 * Builds and starts a Nest app with DoctorJobModule on a test database and the given handler
 * providers. The runner starts unless `autoStart: false`.
 */
export async function startOutboxApp(
  db: TestDatabase,
  providers: Provider[],
  options: Partial<DoctorJobOptions> = {},
): Promise<OutboxApp> {
  const logs = new CapturedLogs();
  const module = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: db.prisma, pollIntervalMs: 50, ...options })],
    providers,
  })
    .setLogger(logs)
    .compile();
  await module.init();
  return {
    module,
    outbox: module.get<OutboxService<AnyJobs>>(OutboxService),
    deadLetters: module.get(DeadLetterService),
    runner: module.get(OutboxRunner),
    scheduler: module.get(SchedulerRegistry),
    logs,
    close: () => module.close(),
  };
}
