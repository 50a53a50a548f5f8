import { IsInt, Min } from 'class-validator';

/** Payload of the `sendWelcomeEmail` job. */
export class SendWelcomeEmail {
  @IsInt()
  @Min(1)
  userId!: number;
}

// The job map: enqueue() and @JobHandler are checked against it at compile time.
declare module 'doctor-job' {
  interface DoctorJobs {
    sendWelcomeEmail: SendWelcomeEmail;
  }
}
