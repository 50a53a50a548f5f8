import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_HANDLER_METADATA } from '../doctor-job.constants';
import { REQUEST_SCOPED_HANDLER } from '../doctor-job.messages';
import { checkBackoff } from '../doctor-job.options.checks';
import { codePoints, definedOnly, describe } from '../util/describe';
import { getMetadataStorage } from 'class-validator';
import { CronTime } from 'cron';
import type { JobHandlerMetadata } from '../decorators/job-handler.decorator';
import { HandlerRegistrationError } from '../errors/handler-registration.error';
import { JobHandlerRegistry } from './job-handler.registry';

/** Finds every @JobHandler method of the app's providers at start-up and registers it. */
@Injectable()
export class JobHandlerExplorer implements OnModuleInit {
  private readonly logger = new Logger(JobHandlerExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: JobHandlerRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || !metatype) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName];
        const meta = this.reflector.get<JobHandlerMetadata | undefined>(JOB_HANDLER_METADATA, method);
        if (!meta) continue;
        const location = `${(metatype as { name?: string }).name ?? 'provider'}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(REQUEST_SCOPED_HANDLER(meta.type, location));
          continue;
        }
        checkHandler(meta, location);
        this.registry.add({
          type: meta.type,
          location,
          payload: meta.payload,
          maxAttempts: meta.maxAttempts,
          backoff: meta.backoff && definedOnly(meta.backoff),
          timeoutMs: meta.timeoutMs,
          concurrency: meta.concurrency,
          cron: meta.cron,
          transaction: meta.transaction,
          // A handler that throws before returning a promise fails its job like one that rejects.
          invoke: (payload, context) => {
            try {
              return Promise.resolve(method.call(instance, payload, context));
            } catch (error) {
              return Promise.reject(error);
            }
          },
        });
      }
    }
  }
}

function checkHandler(meta: JobHandlerMetadata, location: string): void {
  const problems: string[] = [];
  if (typeof meta.type !== 'string' || meta.type.trim() === '' || codePoints(meta.type) > 255) {
    problems.push(`the job type must be a non-empty string of at most 255 characters, got ${describe(meta.type)}`);
  }
  if (meta.maxAttempts !== undefined && !(Number.isSafeInteger(meta.maxAttempts) && meta.maxAttempts > 0)) {
    problems.push(`"maxAttempts" must be a positive integer, got ${describe(meta.maxAttempts)}`);
  }
  if (meta.payload !== undefined && typeof meta.payload !== 'function') {
    problems.push(`"payload" must be a class (a class-validator DTO), got ${describe(meta.payload)}`);
  } else if (meta.payload && getMetadataStorage().getTargetValidationMetadatas(meta.payload, '', true, false).length === 0) {
    problems.push(
      `"payload" is ${meta.payload.name}, which has no class-validator decorators, so every payload would fail ` +
        `validation; decorate its properties (@IsString(), @IsInt(), ...) or leave "payload" out`,
    );
  }
  if (meta.backoff !== undefined) problems.push(...checkBackoff(meta.backoff, 'backoff.'));
  for (const key of ['timeoutMs', 'concurrency'] as const) {
    const value = meta[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0 && value <= 2 ** 31 - 1)) {
      problems.push(`"${key}" must be a positive integer (at most 2147483647), got ${describe(value)}`);
    }
  }
  if (meta.transaction !== undefined && typeof meta.transaction !== 'boolean') {
    problems.push(`"transaction" must be true or false, got ${describe(meta.transaction)}`);
  }
  if (meta.cron !== undefined) {
    if (meta.payload) problems.push('"cron" and "payload" do not go together: a recurring job gets { scheduledAt } as its payload');
    try {
      new CronTime(meta.cron);
    } catch (error) {
      problems.push(`"cron" is not a valid cron expression (${describe(meta.cron)}): ${(error as Error).message}`);
    }
  }
  if (problems.length) {
    throw new HandlerRegistrationError(`Invalid @JobHandler on ${location}:\n  - ${problems.join('\n  - ')}`);
  }
}
