import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { setUpApp } from './app.setup.js';

async function bootstrap() {
  const app = setUpApp(await NestFactory.create(AppModule));
  app.enableShutdownHooks(); // SIGTERM: Doctor Job's runner finishes (or releases) its jobs first
  await app.listen(process.env.PORT ?? 3000);
  console.log(`listening on ${await app.getUrl()}`);
}
await bootstrap();
