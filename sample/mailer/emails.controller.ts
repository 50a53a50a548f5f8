import { Controller, Get } from '@nestjs/common';
import { MailerService } from './mailer.service';

@Controller('emails')
export class EmailsController {
  constructor(private readonly mailer: MailerService) {}

  @Get()
  list() {
    return this.mailer.sent();
  }
}
