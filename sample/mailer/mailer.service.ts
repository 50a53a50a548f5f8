import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/postgresql/client';
import { PrismaService } from '../database/prisma.service';

/** A stand-in mailer: "sending" records the email in the sent_email table. */
@Injectable()
export class MailerService {
  constructor(private readonly prisma: PrismaService) {}

  async sendLoginLink(tx: Prisma.TransactionClient, to: string, clientId: number, token: string): Promise<void> {
    await tx.sentEmail.create({ data: { to, clientId, token } });
  }

  sent() {
    return this.prisma.sentEmail.findMany({ orderBy: { id: 'asc' } });
  }
}
