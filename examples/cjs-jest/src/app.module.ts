import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DoctorJobModule } from 'doctor-job';
import { MailerService } from './mailer/mailer.service';
import { PrismaModule } from './prisma/prisma.module';
import { PrismaService } from './prisma/prisma.service';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';
import { WelcomeEmailJobs } from './users/welcome-email.jobs';

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
