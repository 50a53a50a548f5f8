import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { createPrismaClient, DEFAULT_DATABASE_URL, PrismaService } from './prisma.service';

/** Provides PrismaService, connected and migrated; disconnects it when the app has shut down. */
@Global()
@Module({
  providers: [
    {
      provide: PrismaService,
      useFactory: () => createPrismaClient(process.env.DATABASE_URL || DEFAULT_DATABASE_URL),
    },
  ],
  exports: [PrismaService],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(private readonly prisma: PrismaService) {}

  // After Doctor Job's runner has stopped (onModuleDestroy) and released what it held.
  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
