/**
 * The operator's console on the command line: stats, jobs, dead-letters, pause/resume and doctor.
 * Each command opens one connection (the dialect's plain driver), builds the app's own JobStore
 * on it (store-client.ts), and calls DoctorJobAdminService, as a dashboard would: the CLI has no
 * SQL of its own. Readable tables by default, `--json` for scripts. The commands themselves:
 * queue-commands.ts, jobs-commands.ts, dead-letter-commands.ts; what they share: console-runner.ts.
 */
import type { Command } from 'commander';
import type { ConsoleContext } from './console-runner';
import { registerDeadLetterCommands } from './dead-letter-commands';
import { registerJobsCommands } from './jobs-commands';
import { registerQueueCommands, registerStatsCommand } from './queue-commands';

export { CONSOLE_EXIT_CODES, type ConsoleContext, type ConsoleOptions } from './console-runner';

/** Registers the console commands on the program. */
export function registerConsoleCommands(program: Command, context: ConsoleContext): void {
  registerStatsCommand(program, context);
  registerJobsCommands(program, context);
  registerDeadLetterCommands(program, context);
  registerQueueCommands(program, context);
}
