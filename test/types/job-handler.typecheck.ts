// Compile-time checks of @JobHandler against the job map (the sample's jobs.ts augments DoctorJobs
// with sendClientLoginLink, reticulateSplines and clientCreated). The `// @ts-expect-error <text>`
// lines work as in enqueue.typecheck.ts. An error in a method's type is reported on its decorator,
// and always starts with TS's "Unable to resolve signature of method decorator"; the lines after it
// name the parameter and the field at fault.
import { IsInt, IsString, Min } from 'class-validator';
import { JobHandler, type JobContext } from 'doctor-job';
import type { ClientCreated } from '../../sample/events/client-events';
import { ReticulateSplines, SendClientLoginLink } from '../../sample/jobs';

/** A DTO with a field the map's SendClientLoginLink does not have. */
class SendClientLoginLinkWithLocale {
  @IsInt() @Min(1) clientId!: number;
  @IsString() locale!: string;
}

/** A DTO with the map's fields and a method and a getter (not payload fields). */
class SendClientLoginLinkDto {
  @IsInt() @Min(1) clientId!: number;
  get label(): string {
    return `client ${this.clientId}`;
  }
  describe(): string {
    return this.label;
  }
}

declare const typeKnownAtRunTime: string;

export class ValidHandlers {
  @JobHandler('sendClientLoginLink', { payload: SendClientLoginLink, maxAttempts: 5 })
  async withDto(payload: SendClientLoginLink, job: JobContext): Promise<void> {
    void payload.clientId;
    void job.attempt;
  }

  @JobHandler('sendClientLoginLink') noParameters() {}

  @JobHandler('sendClientLoginLink') structural(payload: { clientId: number }) {
    return payload.clientId;
  }

  @JobHandler('sendClientLoginLink') wider(payload: { clientId: number | string; note?: string }) {}

  @JobHandler('sendClientLoginLink') anything(payload: unknown) {}

  @JobHandler('clientCreated') anInterface(event: ClientCreated) {}

  @JobHandler('sendClientLoginLink', { payload: SendClientLoginLinkDto }) dtoWithMethods(payload: SendClientLoginLinkDto) {
    return payload.describe();
  }

  @JobHandler('reticulateSplines', { backoff: { baseMs: 10 } }) static onAStaticMethod(payload: ReticulateSplines) {}

  // A type known only at run time (as in the relay factories) is not checked.
  @JobHandler(typeKnownAtRunTime) dynamic(payload: number) {}

  // An explicit `<string>` opts one handler out of the map (e.g. a test app's own job types).
  @JobHandler<string>('notInTheMap', { payload: SendClientLoginLinkWithLocale }) optedOut(payload: SendClientLoginLinkWithLocale) {}
}

export class InvalidHandlers {
  // @ts-expect-error Argument of type '"sendInvoice"' is not assignable to parameter of type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  @JobHandler('sendInvoice') unknownType(payload: unknown) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... 'TypedPropertyDescriptor<JobHandlerMethod<SendClientLoginLink>>' ... Types of parameters 'payload' and 'payload' are incompatible ... Property 'target' is missing in type 'SendClientLoginLink' but required in type 'ReticulateSplines'
  @JobHandler('sendClientLoginLink') otherPayload(payload: ReticulateSplines) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... Types of property 'clientId' are incompatible ... Type 'number' is not assignable to type 'string'
  @JobHandler('sendClientLoginLink') wrongFieldType(payload: { clientId: string }) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... Property 'email' is missing in type 'SendClientLoginLink' but required in type 'ClientCreated'
  @JobHandler('sendClientLoginLink') expectsMore(payload: ClientCreated) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... Types of parameters 'job' and 'job' are incompatible ... Type 'JobContext' is not assignable to type 'string'
  @JobHandler('sendClientLoginLink') wrongContext(payload: SendClientLoginLink, job: string) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... Target signature provides too few arguments. Expected 3 or more, but got 2
  @JobHandler('sendClientLoginLink') tooManyParameters(payload: SendClientLoginLink, job: JobContext, extra: number) {}

  // @ts-expect-error Type 'typeof ReticulateSplines' is not assignable to type 'PayloadClass<SendClientLoginLink>' ... Property 'clientId' is missing in type 'ReticulateSplines'
  @JobHandler('sendClientLoginLink', { payload: ReticulateSplines }) otherDto(payload: ReticulateSplines) {}

  // @ts-expect-error Property ''DTO fields that the job map payload lacks or types differently'' is missing in type 'typeof SendClientLoginLinkWithLocale' ... "locale"
  @JobHandler('sendClientLoginLink', { payload: SendClientLoginLinkWithLocale }) dtoNeedsMore(payload: SendClientLoginLinkWithLocale) {}

  // @ts-expect-error Unable to resolve signature of method decorator ... Property 'target' is missing in type 'SendClientLoginLinkDto' but required in type 'ReticulateSplines'
  @JobHandler('sendClientLoginLink', { payload: SendClientLoginLinkDto }) parameterIsNotTheDto(payload: ReticulateSplines) {}
}
