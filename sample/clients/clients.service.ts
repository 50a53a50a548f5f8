import { Injectable, NotFoundException } from '@nestjs/common';
import { OutboxService } from 'doctor-job';
import type { Prisma } from '../../generated/postgresql/client';

@Injectable()
export class ClientsService {
  constructor(private readonly outbox: OutboxService) {}

  /** Creates the client and enqueues its `clientCreated` event, in one transaction. */
  create(email: string) {
    return this.outbox.transaction(async (tx: Prisma.TransactionClient) => {
      const client = await tx.client.create({ data: { email } });
      await this.outbox.enqueue(tx, 'clientCreated', { clientId: client.id, email: client.email });
      return client;
    });
  }

  /** Looks the client up and enqueues the email in one transaction: both happen, or neither. */
  requestLoginLink(email: string) {
    return this.outbox.transaction(async (tx: Prisma.TransactionClient) => {
      const client = await tx.client.findUnique({ where: { email } });
      if (!client) throw new NotFoundException(`No client with email ${email}`);
      const jobId = await this.outbox.enqueue(tx, 'sendClientLoginLink', { clientId: client.id });
      return { clientId: client.id, jobId };
    });
  }
}
