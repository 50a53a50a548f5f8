import { ValidationPipe, type INestApplication } from '@nestjs/common';

/** What main.ts and the tests both apply to the app. */
export function setUpApp<T extends INestApplication>(app: T): T {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  return app;
}
