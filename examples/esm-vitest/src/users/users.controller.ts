import { Body, Controller, Get, NotFoundException, Param, ParseIntPipe, Post } from '@nestjs/common';
import { IsEmail } from 'class-validator';
import { PrismaService } from '../prisma/prisma.service.js';
import { UsersService } from './users.service.js';

class SignUp {
  @IsEmail()
  email!: string;
}

@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly prisma: PrismaService,
  ) {}

  @Post()
  signUp(@Body() body: SignUp) {
    return this.users.signUp(body.email);
  }

  @Get(':id')
  async get(@Param('id', ParseIntPipe) id: number) {
    const user = await this.prisma.user.findUnique({ where: { id } });
    if (!user) throw new NotFoundException(`No user ${id}`);
    return user;
  }
}
