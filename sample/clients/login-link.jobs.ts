import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { JobHandler, NonRetryableJobError, type JobContext } from 'doctor-job';
import type { Prisma } from '../../generated/postgresql/client';
import { PrismaService } from '../database/prisma.service';
import { MailerService } from '../mailer/mailer.service';
import { SendClientLoginLink } from '../jobs';

@Injectable()
export class LoginLinkJobs {
  constructor(
    private readonly prisma: PrismaService,
    private readonly mailer: MailerService,
  ) {}

  /** Creates a login token and emails it. */
  @JobHandler('sendClientLoginLink', { payload: SendClientLoginLink, maxAttempts: 5 })
  async sendClientLoginLink(payload: SendClientLoginLink, job: JobContext): Promise<void> {
    await this.prisma.$transaction(async (tx: Prisma.TransactionClient) => {
      const client = await tx.client.findUnique({ where: { id: payload.clientId } });
      if (!client) throw new NonRetryableJobError(`Client ${payload.clientId} does not exist (job ${job.id})`);
      const token = randomBytes(24).toString('base64url');
      await tx.loginToken.create({ data: { clientId: client.id, token } });
      await this.mailer.sendLoginLink(tx, client.email, client.id, token);
    });
  }
}
