import { BadRequestException, NotFoundException } from '@nestjs/common';

/**
 * An argument of a DeadLetterService (or OutboxService inspection) call is not valid: an id that
 * is not a string of digits within the 64-bit range, a page size out of bounds. A Nest
 * BadRequestException, so a controller that passes it on answers 400 with the message.
 */
export class InvalidArgumentError extends BadRequestException {
  override readonly name = 'InvalidArgumentError';
}

/**
 * Ids given to replay or delete that are not dead letters (nothing was changed). A Nest NotFoundException (404).
 * The message says why an id that was a dead letter may be gone: the usual case is a second replay
 * or delete of one (a double click, a retried request, two operators), since a replay moves it to
 * the queue as a new job with an id of its own.
 */
export class DeadLetterNotFoundError extends NotFoundException {
  override readonly name = 'DeadLetterNotFoundError';

  constructor(readonly ids: string[]) {
    super(
      ids.length === 1
        ? `No dead letter has the id ${ids[0]}: it may have been replayed (its job is back in the queue, under a new id) or deleted already; nothing was changed.`
        : `No dead letters have the ids ${ids.join(', ')}: they may have been replayed (their jobs are back in the queue, under new ids) or deleted already; nothing was changed.`,
    );
  }
}
