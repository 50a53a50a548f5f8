import { Injectable } from '@nestjs/common';

export interface Email {
  to: string;
  subject: string;
}

/** Stands in for a real mail provider: keeps what it "sent". */
@Injectable()
export class MailerService {
  readonly sent: Email[] = [];

  async send(email: Email): Promise<void> {
    this.sent.push(email);
  }
}
