// `doctor-job/testing`: for the app's own tests (Jest or Vitest), against a real database.
// The main entry point never loads it.
export { JobTester, type AppLike, type DrainOptions, type DrainReport, type JobOutcome } from './job-tester';
export { withoutRunner, type OverridableBuilder } from './without-runner';
