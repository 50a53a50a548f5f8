import { ConflictException, NotFoundException } from '@nestjs/common';

/** Ids given to a DoctorJobAdminService action that are not jobs in the queue (nothing was changed). A Nest NotFoundException (404). */
export class JobNotFoundError extends NotFoundException {
  override readonly name = 'JobNotFoundError';

  constructor(readonly ids: string[]) {
    super(`${ids.length === 1 ? `No job in the queue has the id ${ids[0]}` : `No jobs in the queue have the ids ${ids.join(', ')}`}; nothing was changed.`);
  }
}

/**
 * Jobs a DoctorJobAdminService action (cancel, run now) refused because a worker holds them under a
 * live lease, or a claim or settle had them locked at that moment (nothing was changed). A Nest
 * ConflictException (409). A running job cannot be cancelled: its handler may be half-way through;
 * wait for the attempt to end (it is then queued again, or gone), or pause its type first.
 */
export class JobRunningError extends ConflictException {
  override readonly name = 'JobRunningError';

  constructor(
    readonly ids: string[],
    action: string,
  ) {
    super(
      `${ids.length === 1 ? `Job ${ids[0]} is` : `Jobs ${ids.join(', ')} are`} running (held by a worker under a live lease): ` +
        `cannot ${action} ${ids.length === 1 ? 'it' : 'them'} while the attempt runs; nothing was changed. ` +
        `Try again once the attempt has ended (pause the type to keep it from being claimed again).`,
    );
  }
}
