import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';

/** The two XSS payloads: an element with an event handler, and a way out of a <script>. */
export const XSS_IMG = '<img src=x onerror=alert(1)>';
export const XSS_SCRIPT = '</script><script>alert(1)</script>';
/** A job type whose very name is hostile, next to the sample's own types. */
export const HOSTILE_TYPE = `hostile ${XSS_SCRIPT}`;

/** Fails at once with an error message made of both payloads, so its dead letter carries them in type, payload, error and stack. */
@Injectable()
export class HostileJobs {
  @JobHandler(HOSTILE_TYPE as never, { maxAttempts: 1 })
  fail(payload: { note: string }): void {
    throw new Error(`Refused ${payload.note} and ${XSS_SCRIPT}`);
  }
}
