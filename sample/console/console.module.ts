import { Module } from '@nestjs/common';
import { DoctorJobDashboardModule } from 'doctor-job/dashboard';
import { CONSOLE_LOGIN_PATH, CONSOLE_LOGOUT_PATH, CONSOLE_PATH, type ConsoleAccess } from './console-access';
import { ConsoleAccessGuard } from './console-access.guard';
import { CONSOLE_ACCESS, ConsoleAccessModule } from './console-access.module';
import { ConsoleLoginController } from './console-login.controller';

/**
 * Doctor Job's dashboard at /jobs. With DASHBOARD_TOKEN set it takes the token (a Bearer header,
 * or the cookie of a sign-in at /jobs/login) and may act; without it, it is read-only and answers
 * loopback clients only.
 */
@Module({
  imports: [
    ConsoleAccessModule,
    DoctorJobDashboardModule.forRootAsync({
      path: CONSOLE_PATH,
      imports: [ConsoleAccessModule],
      inject: [CONSOLE_ACCESS],
      useFactory: (access: ConsoleAccess) => ({
        guards: [new ConsoleAccessGuard(access)],
        readOnly: access.mode !== 'token',
        // A 401 page links to the sign-in form.
        ...(access.mode === 'token' ? { signInUrl: `/${CONSOLE_LOGIN_PATH}`, signOutUrl: `/${CONSOLE_LOGOUT_PATH}` } : {}),
      }),
    }),
  ],
  controllers: [ConsoleLoginController],
})
export class ConsoleModule {}
