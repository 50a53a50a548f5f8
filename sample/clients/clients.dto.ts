import { IsEmail } from 'class-validator';

export class EmailBody {
  @IsEmail()
  email!: string;
}
