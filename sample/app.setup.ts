import { ValidationPipe, type INestApplication } from '@nestjs/common';

/** What main.ts and the e2e tests both apply to the app. */
export function configureApp(app: INestApplication): INestApplication {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  app.enableShutdownHooks();
  return app;
}
