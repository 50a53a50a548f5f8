import { IsInt, IsNotEmpty, IsString, Min } from 'class-validator';

/** Payload of `sendClientLoginLink`. */
export class SendClientLoginLink {
  @IsInt()
  @Min(1)
  clientId!: number;
}

/** Payload of `reticulateSplines`. */
export class ReticulateSplines {
  @IsString()
  @IsNotEmpty()
  target!: string;
}

// The job map: enqueue() now checks type names and payload shapes at compile time.
declare module 'doctor-job' {
  interface DoctorJobs {
    sendClientLoginLink: SendClientLoginLink;
    reticulateSplines: ReticulateSplines;
    clientCreated: import('./events/client-events').ClientCreated;
  }
}
