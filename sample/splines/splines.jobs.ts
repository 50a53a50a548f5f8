import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { ReticulateSplines } from '../jobs';

@Injectable()
export class SplinesJobs {
  /** Always fails, so its jobs end in the dead letters after three attempts. */
  @JobHandler('reticulateSplines', { payload: ReticulateSplines, maxAttempts: 3, backoff: { baseMs: 200, maxMs: 1_000 } })
  async reticulateSplines(payload: ReticulateSplines): Promise<void> {
    throw new Error(`Reticulating splines for "${payload.target}" is not implemented yet`);
  }
}
