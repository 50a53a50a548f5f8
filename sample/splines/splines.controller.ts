import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { OutboxService } from 'doctor-job';
import { ReticulateSplines } from '../jobs';

@Controller('splines')
export class SplinesController {
  constructor(private readonly outbox: OutboxService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async reticulate(@Body() body: ReticulateSplines) {
    const jobId = await this.outbox.transaction((tx) => this.outbox.enqueue(tx, 'reticulateSplines', { target: body.target }));
    return { jobId };
  }
}
