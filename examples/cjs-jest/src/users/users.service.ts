import { Injectable } from '@nestjs/common';
import { OutboxService } from 'doctor-job';
import type { Prisma } from '../generated/prisma/client';

@Injectable()
export class UsersService {
  constructor(private readonly outbox: OutboxService) {}

  /** Creates the user and enqueues its welcome email in one transaction: both commit, or neither. */
  signUp(email: string) {
    return this.outbox.transaction(async (tx: Prisma.TransactionClient) => {
      const user = await tx.user.create({ data: { email } });
      await this.outbox.enqueue(tx, 'sendWelcomeEmail', { userId: user.id });
      return user;
    });
  }
}
