import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { ClsModule } from 'nestjs-cls';
import { ClsPluginTransactional, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterPrisma } from '@nestjs-cls/transactional-adapter-prisma';
import { DoctorJobModule, EnqueueError, JobHandler, OutboxService } from 'doctor-job';
import { PrismaService } from '../../sample/database/prisma.service';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';

@Injectable()
class Jobs {
  @JobHandler('welcome')
  welcome() {}
}

/** A service written the nestjs-cls way: no transaction client passed around. */
@Injectable()
class Signups {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterPrisma<PrismaService>>,
    private readonly outbox: OutboxService<Record<string, unknown>>,
  ) {}

  @Transactional()
  async signUp(email: string, fail = false) {
    const client = await this.txHost.tx.client.create({ data: { email } });
    await this.outbox.enqueue('welcome', { clientId: client.id });
    if (fail) throw new Error('rolled back after the enqueue');
    return client.id;
  }

  enqueueOutside(outsideTransaction?: boolean) {
    return this.outbox.enqueue('welcome', { clientId: 0 }, { outsideTransaction });
  }
}

eachDialect('nestjs-cls: enqueue joins the ambient @Transactional() transaction', (dialect) => {
  let db: TestDatabase;
  let module: TestingModule;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    @Module({ providers: [{ provide: PrismaService, useValue: db.prisma }], exports: [PrismaService] })
    class PrismaModule {}
    module = await Test.createTestingModule({
      imports: [
        PrismaModule,
        ScheduleModule.forRoot(),
        ClsModule.forRoot({
          global: true,
          plugins: [new ClsPluginTransactional({ imports: [PrismaModule], adapter: new TransactionalAdapterPrisma({ prismaInjectionToken: PrismaService }) })],
        }),
        DoctorJobModule.forRoot({ prisma: PrismaService, autoStart: false }),
      ],
      providers: [Jobs, Signups],
    }).compile();
    await module.init();
  });
  afterAll(async () => {
    await module?.close();
    await db?.dispose();
  });

  const count = async (table: string) => Number((await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM "${table}"`))[0].n);

  it('commits the job with the data, and rolls it back with the data', async () => {
    const id = await module.get(Signups).signUp('cls@example.com');
    const [job] = await db.query<{ payload: unknown }>('SELECT "payload" FROM "doctor_job"');
    expect(typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload).toEqual({ clientId: id });
    await expect(module.get(Signups).signUp('rolled@example.com', true)).rejects.toThrow('rolled back after the enqueue');
    expect(await count('client')).toBe(1);
    expect(await count('doctor_job')).toBe(1);
  });

  it('refuses an enqueue outside a transaction, unless the caller opts in', async () => {
    await db.execute('DELETE FROM "doctor_job"');
    const refused = await module.get(Signups).enqueueOutside().catch((e: Error) => e);
    expect(refused).toBeInstanceOf(EnqueueError);
    expect((refused as Error).message).toContain('enqueue("welcome") was called outside a transaction');
    expect(await count('doctor_job')).toBe(0);
    await module.get(Signups).enqueueOutside(true);
    expect(await count('doctor_job')).toBe(1);
  });
});
