import { Injectable } from '@nestjs/common';
import type { JobHandlerMetadata } from '../decorators/job-handler.decorator';
import { HandlerRegistrationError } from '../errors/handler-registration.error';
import { DUPLICATE_HANDLER } from '../doctor-job.messages';
import type { JobContext } from './job-context.interface';

/** A handler as registered: its type and @JobHandler options (see JobHandlerOptions), where it is, and how to call it. */
export interface RegisteredHandler extends JobHandlerMetadata {
  /** "ProviderClass.method", for messages. */
  location: string;
  invoke(payload: unknown, context: JobContext): Promise<unknown>;
}

/** Job type → handler. Filled once at start-up by the explorer. */
@Injectable()
export class JobHandlerRegistry {
  private readonly handlers = new Map<string, RegisteredHandler>();

  add(handler: RegisteredHandler): void {
    const existing = this.handlers.get(handler.type);
    if (existing) throw new HandlerRegistrationError(DUPLICATE_HANDLER(handler.type, existing.location, handler.location));
    this.handlers.set(handler.type, handler);
  }

  get(type: string): RegisteredHandler | undefined {
    return this.handlers.get(type);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Types whose handler has a `concurrency` limit of its own. */
  limited(): Set<string> {
    return new Set([...this.handlers.values()].filter((handler) => handler.concurrency !== undefined).map((handler) => handler.type));
  }

  /** Handlers declared with a cron schedule. */
  recurring(): RegisteredHandler[] {
    return [...this.handlers.values()].filter((handler) => handler.cron !== undefined);
  }
}
