import { defineConfig } from 'prisma/config';

export default defineConfig({
  // The folder, not prisma/schema.prisma: Prisma then reads doctor-job.prisma too.
  schema: 'prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./dev.db' },
});
