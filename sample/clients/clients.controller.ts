import { Body, ConflictException, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { EmailBody } from './clients.dto';
import { ClientsService } from './clients.service';

@Controller('clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  async create(@Body() body: EmailBody) {
    try {
      return await this.clients.create(body.email);
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw new ConflictException(`A client with email ${body.email} exists`);
      throw error;
    }
  }

  @Post('login-link')
  @HttpCode(HttpStatus.ACCEPTED)
  requestLoginLink(@Body() body: EmailBody) {
    return this.clients.requestLoginLink(body.email);
  }
}
