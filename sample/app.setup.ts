import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { BodyDepthPipe } from './body-depth.pipe';

/** What main.ts and the e2e tests both apply to the app. */
export function configureApp(app: INestApplication): INestApplication {
  // Pipes run in this order: a body nested too deep gets a 400 before ValidationPipe sees it.
  app.useGlobalPipes(new BodyDepthPipe(), new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  app.enableShutdownHooks();
  return app;
}
