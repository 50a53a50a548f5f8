import { Module } from '@nestjs/common';
import { consoleAccessFromEnv } from './console-access';

/** The console's access mode (ConsoleAccess), read from DASHBOARD_TOKEN when the app is created. */
export const CONSOLE_ACCESS = Symbol('sample:console-access');

@Module({
  providers: [{ provide: CONSOLE_ACCESS, useFactory: () => consoleAccessFromEnv() }],
  exports: [CONSOLE_ACCESS],
})
export class ConsoleAccessModule {}
