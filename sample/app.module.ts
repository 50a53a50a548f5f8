import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule } from 'doctor-job';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { LoginLinkJobs } from './clients/login-link.jobs';
import { DatabaseModule } from './database/database.module';
import { PrismaService } from './database/prisma.service';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { EmailsController } from './mailer/emails.controller';
import { MailerService } from './mailer/mailer.service';
import { SplinesController } from './splines/splines.controller';
import { SplinesJobs } from './splines/splines.jobs';

@Module({
  imports: [
    DatabaseModule,
    ScheduleModule.forRoot(),
    DoctorJobModule.forRootAsync({
      inject: [PrismaService],
      useFactory: (prisma: PrismaService) => ({
        prisma,
        pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 500),
      }),
    }),
  ],
  controllers: [ClientsController, EmailsController, SplinesController, DeadLettersController],
  providers: [ClientsService, MailerService, LoginLinkJobs, SplinesJobs],
})
export class AppModule {}
