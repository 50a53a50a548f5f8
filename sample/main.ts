import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { describeConsole, type ConsoleAccess } from './console/console-access';
import { CONSOLE_ACCESS } from './console/console-access.module';
import { DEFAULT_DATABASE_URL } from './database/prisma.service';

async function bootstrap() {
  const app = configureApp(await NestFactory.create(AppModule));
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const url = (process.env.DATABASE_URL || DEFAULT_DATABASE_URL).replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@');
  const base = `http://localhost:${port}`;
  const consoleLine = describeConsole(app.get<ConsoleAccess>(CONSOLE_ACCESS), base);
  Logger.log(`Sample app on ${base} (database: ${url}); ${consoleLine}`, 'Bootstrap');
}

void bootstrap();
