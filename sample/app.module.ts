import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { DoctorJobModule } from 'doctor-job';
import { DoctorJobHealthIndicator } from 'doctor-job/health';
import { DOCTOR_JOB_METRICS_REGISTRY, DoctorJobMetrics } from 'doctor-job/metrics';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { ConsoleModule } from './console/console.module';
import { LoginLinkJobs } from './clients/login-link.jobs';
import { DatabaseModule } from './database/database.module';
import { PrismaService } from './database/prisma.service';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { clientEvents } from './events/client-events';
import { HealthController } from './health/health.controller';
import { EmailsController } from './mailer/emails.controller';
import { MailerService } from './mailer/mailer.service';
import { SplinesController } from './splines/splines.controller';
import { SplinesJobs } from './splines/splines.jobs';

const events = clientEvents();

@Module({
  imports: [
    ...events.imports,
    DatabaseModule,
    ScheduleModule.forRoot(),
    TerminusModule,
    DoctorJobModule.forRootAsync({
      inject: [PrismaService],
      useFactory: (prisma: PrismaService) => ({
        prisma,
        pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 500),
      }),
    }),
    ConsoleModule,
  ],
  controllers: [ClientsController, EmailsController, SplinesController, DeadLettersController, HealthController],
  providers: [
    ClientsService,
    MailerService,
    LoginLinkJobs,
    SplinesJobs,
    ...events.providers,
    DoctorJobHealthIndicator,
    DoctorJobMetrics,
    // A registry per app (several sample apps run in one test process).
    { provide: DOCTOR_JOB_METRICS_REGISTRY, useFactory: () => new Registry() },
  ],
})
export class AppModule {}
