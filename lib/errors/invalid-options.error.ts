/** DoctorJobModule options that cannot work; thrown at start-up. */
export class InvalidOptionsError extends Error {
  override readonly name = 'InvalidOptionsError';
  constructor(readonly problems: string[]) {
    super(`Invalid DoctorJobModule options:\n  - ${problems.join('\n  - ')}`);
  }
}
