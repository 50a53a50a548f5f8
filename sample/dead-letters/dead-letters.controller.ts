import { BadRequestException, Controller, Get, HttpCode, HttpStatus, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { DeadLetterService } from 'doctor-job';

@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterService) {}

  @Get()
  async list(@Query('type') type?: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    try {
      return await this.deadLetters.list({ type, limit: limit === undefined ? undefined : Number(limit), cursor });
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  async replay(@Param('id') id: string) {
    if (!/^[1-9]\d{0,18}$/.test(id)) throw new BadRequestException(`"${id}" is not a dead-letter id`);
    const [jobId] = await this.deadLetters.replay(id);
    if (!jobId) throw new NotFoundException(`No dead letter ${id}`);
    return { jobId };
  }
}
