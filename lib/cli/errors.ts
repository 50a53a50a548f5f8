/**
 * An expected failure of a `doctor-job` command: the CLI prints its message as one line, with no
 * stack trace, and exits with its code.
 *
 * - 2: the command could not run: no or bad URL, unknown dialect, unreachable database, missing driver.
 * - 1: the command ran and found the database (or the target folder) not as it should be: a
 *   migration pending, failed or edited, Doctor Job tables that differ from the migrations, a file
 *   that `sql --into` would overwrite.
 */
export class DoctorJobCliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'DoctorJobCliError';
  }
}

/** The command could not run (exit code 2). */
export const usageError = (message: string) => new DoctorJobCliError(message, 2);

/** The database is not in the state Doctor Job needs, and the command will not change that by itself (exit code 1). */
export const stateError = (message: string) => new DoctorJobCliError(message, 1);
