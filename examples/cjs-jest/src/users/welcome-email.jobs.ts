import { Injectable } from '@nestjs/common';
import { JobHandler, NonRetryableJobError, type JobContext } from 'doctor-job';
import { MailerService } from '../mailer/mailer.service';
import { PrismaService } from '../prisma/prisma.service';
import { SendWelcomeEmail } from './jobs';

@Injectable()
export class WelcomeEmailJobs {
  constructor(
    private readonly prisma: PrismaService,
    private readonly mailer: MailerService,
  ) {}

  @JobHandler('sendWelcomeEmail', { payload: SendWelcomeEmail, maxAttempts: 5 })
  async send(payload: SendWelcomeEmail, job: JobContext): Promise<void> {
    const user = await this.prisma.user.findUnique({ where: { id: payload.userId } });
    if (!user) throw new NonRetryableJobError(`User ${payload.userId} does not exist (job ${job.id})`);
    if (user.welcomeEmailSentAt) return; // handlers must be idempotent: a job can run twice
    await this.mailer.send({ to: user.email, subject: 'Welcome!' });
    await this.prisma.user.update({ where: { id: user.id }, data: { welcomeEmailSentAt: new Date() } });
  }
}
