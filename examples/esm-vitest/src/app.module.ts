import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule } from 'doctor-job';
import { MailerService } from './mailer/mailer.service.js';
import { PrismaModule } from './prisma/prisma.module.js';
import { PrismaService } from './prisma/prisma.service.js';
import { UsersController } from './users/users.controller.js';
import { UsersService } from './users/users.service.js';
import { WelcomeEmailJobs } from './users/welcome-email.jobs.js';

@Module({
  imports: [
    PrismaModule,
    ScheduleModule.forRoot(), // once per app: Doctor Job's runner is an interval of @nestjs/schedule
    DoctorJobModule.forRoot({ prisma: PrismaService, pollIntervalMs: 200 }),
  ],
  controllers: [UsersController],
  providers: [UsersService, WelcomeEmailJobs, MailerService],
})
export class AppModule {}
