import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { DeadLetterService } from 'doctor-job';

// DeadLetterService's errors are Nest HTTP exceptions: a malformed id or limit answers 400, an
// id that is not a dead letter 404, each with a message that names it.
@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterService) {}

  @Get()
  list(@Query('type') type?: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.deadLetters.list({ type, limit: limit === undefined ? undefined : Number(limit), cursor });
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  async replay(@Param('id') id: string) {
    const [jobId] = await this.deadLetters.replay(id);
    return { jobId };
  }
}
