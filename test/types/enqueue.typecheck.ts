// Compile-time checks of enqueue and enqueueMany against the job map (the sample's jobs.ts augments
// DoctorJobs with sendClientLoginLink, reticulateSplines and clientCreated).
//
// Each `// @ts-expect-error <text>` line expects a compile error on the next line. `npm run typecheck`
// fails if there is none; type-errors.spec.ts (run by `npm test`) fails unless the first error tsc
// reports on that line has <text> in its first line. Fragments joined by " ... " must all appear, in
// that order, in the whole message (the first of them in its first line).
import type { DoctorJobs, JobRequest, OutboxService, TransactionClientLike } from 'doctor-job';
import type { Prisma } from '../../generated/postgresql/client';
import type { PrismaService } from '../../sample/database/prisma.service';
import '../../sample/jobs';

export async function validCalls(outbox: OutboxService, tx: TransactionClientLike, ptx: Prisma.TransactionClient, ids: number[], list: JobRequest<DoctorJobs>[]): Promise<void> {
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 1 });
  await outbox.enqueue(ptx, 'reticulateSplines', { target: 'x' }, { delayMs: 10, priority: 2 });
  await outbox.enqueueMany(tx, [
    { type: 'sendClientLoginLink', payload: { clientId: 2 } },
    { type: 'reticulateSplines', payload: { target: 'y' }, maxAttempts: 2 },
  ]);
  await outbox.enqueueMany(ptx, ids.map((clientId) => ({ type: 'sendClientLoginLink' as const, payload: { clientId } })));
  await outbox.enqueueMany(tx, list);
  await outbox.enqueueMany(tx, []);

  // Without tx: joins the ambient @nestjs-cls/transactional transaction.
  await outbox.enqueue('sendClientLoginLink', { clientId: 3 }, { outsideTransaction: true });
  await outbox.enqueue('clientCreated', { clientId: 3, email: 'a@b.c' });
  await outbox.enqueueMany([{ type: 'reticulateSplines', payload: { target: 'z' } }]);
  await outbox.enqueueMany(list, { outsideTransaction: true });
}

export async function withTx(outbox: OutboxService, tx: Prisma.TransactionClient, prisma: PrismaService): Promise<void> {
  // @ts-expect-error Argument of type '"sendInvoice"' is not assignable to parameter of type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.enqueue(tx, 'sendInvoice', {});
  // @ts-expect-error Argument of type '{}' is not assignable to parameter of type 'SendClientLoginLink' ... Property 'clientId' is missing in type '{}'
  await outbox.enqueue(tx, 'sendClientLoginLink', {});
  // @ts-expect-error Type 'string' is not assignable to type 'number'
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 'one' });
  // @ts-expect-error Object literal may only specify known properties, and 'email' does not exist in type 'SendClientLoginLink'
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 1, email: 'a@b.c' });
  // @ts-expect-error Expected 3-4 arguments, but got 2
  await outbox.enqueue(tx, 'sendClientLoginLink');
  // @ts-expect-error Object literal may only specify known properties, and 'clientId' does not exist in type 'ReticulateSplines'
  await outbox.enqueue(tx, 'reticulateSplines', { clientId: 1 });
  // @ts-expect-error 'delay' does not exist in type 'EnqueueOptions'. Did you mean to write 'delayMs'?
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 1 }, { delay: 5 });
  // @ts-expect-error Argument of type 'PrismaService' is not assignable to parameter of type '"a transaction client (the tx of outbox.transaction or prisma.$transaction), not the root Prisma client"'
  await outbox.enqueue(prisma, 'sendClientLoginLink', { clientId: 1 });
  // @ts-expect-error Argument of type '42' is not assignable to parameter of type 'RawQueryClient | "sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.enqueue(42, 'sendClientLoginLink', { clientId: 1 });
}

export async function ambient(outbox: OutboxService): Promise<void> {
  // @ts-expect-error Argument of type '"sendInvoice"' is not assignable to parameter of type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.enqueue('sendInvoice', {});
  // @ts-expect-error Argument of type '{}' is not assignable to parameter of type 'SendClientLoginLink' ... Property 'clientId' is missing in type '{}'
  await outbox.enqueue('sendClientLoginLink', {});
  // @ts-expect-error Type 'number' is not assignable to type 'string'
  await outbox.enqueue('reticulateSplines', { target: 1 });
  // @ts-expect-error Object literal may only specify known properties, and 'email' does not exist in type 'SendClientLoginLink'
  await outbox.enqueue('sendClientLoginLink', { clientId: 1, email: 'a@b.c' });
  // @ts-expect-error Expected 2-3 arguments, but got 1
  await outbox.enqueue('sendClientLoginLink');
  // @ts-expect-error 'delay' does not exist in type 'EnqueueOptions & AmbientOptions'. Did you mean to write 'delayMs'?
  await outbox.enqueue('sendClientLoginLink', { clientId: 1 }, { delay: 5 });
}

export async function many(outbox: OutboxService, tx: Prisma.TransactionClient, prisma: PrismaService): Promise<void> {
  // @ts-expect-error Type '"sendInvoice"' is not assignable to type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.enqueueMany(tx, [{ type: 'sendInvoice', payload: {} }]);
  // @ts-expect-error Property 'clientId' is missing in type '{}' but required in type 'SendClientLoginLink'
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: {} }]);
  // @ts-expect-error Type 'string' is not assignable to type 'number'
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: { clientId: 'x' } }]);
  // @ts-expect-error Object literal may only specify known properties, and 'email' does not exist in type 'SendClientLoginLink'
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: { clientId: 1, email: 'a@b.c' } }]);
  // @ts-expect-error Type '{ type: "sendClientLoginLink"; }' is not assignable to type '{ type: "sendClientLoginLink"; payload: SendClientLoginLink; } & EnqueueOptions' ... Property 'payload' is missing
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink' }]);
  // @ts-expect-error Property 'target' is missing in type '{}' but required in type 'ReticulateSplines'
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: { clientId: 1 } }, { type: 'reticulateSplines', payload: {} }]);
  // @ts-expect-error 'delay' does not exist in type '{ type: "sendClientLoginLink"; payload: SendClientLoginLink; } & EnqueueOptions'. Did you mean to write 'delayMs'?
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: { clientId: 1 }, delay: 1 }]);
  // @ts-expect-error Argument of type 'PrismaService' is not assignable to parameter of type '"a transaction client (the tx of outbox.transaction or prisma.$transaction), not the root Prisma client"'
  await outbox.enqueueMany(prisma, [{ type: 'sendClientLoginLink', payload: { clientId: 1 } }]);
  // @ts-expect-error Expected 2 arguments, but got 1
  await outbox.enqueueMany(tx);

  // @ts-expect-error Type '"sendInvoice"' is not assignable to type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.enqueueMany([{ type: 'sendInvoice', payload: {} }]);
  // @ts-expect-error Property 'clientId' is missing in type '{}' but required in type 'SendClientLoginLink'
  await outbox.enqueueMany([{ type: 'sendClientLoginLink', payload: {} }]);
  // @ts-expect-error Type 'string' is not assignable to type 'number'
  await outbox.enqueueMany([{ type: 'sendClientLoginLink', payload: { clientId: 'x' } }]);
  // @ts-expect-error Object literal may only specify known properties, and 'email' does not exist in type 'SendClientLoginLink'
  await outbox.enqueueMany([{ type: 'sendClientLoginLink', payload: { clientId: 1, email: 'a@b.c' } }]);
  // @ts-expect-error Type '{ type: "sendClientLoginLink"; }' is not assignable to type '{ type: "sendClientLoginLink"; payload: SendClientLoginLink; } & EnqueueOptions'
  await outbox.enqueueMany([{ type: 'sendClientLoginLink' }]);
  // @ts-expect-error Object literal may only specify known properties, and 'delay' does not exist in type 'AmbientOptions'
  await outbox.enqueueMany([{ type: 'sendClientLoginLink', payload: { clientId: 1 } }], { delay: 1 });
}

export async function standalone(outbox: OutboxService): Promise<void> {
  await outbox.send('sendClientLoginLink', { clientId: 1 }, { dedupKey: 'login:1', priority: 1 });
  await outbox.send('reticulateSplines', { target: 'x' });
  // @ts-expect-error Argument of type '"sendInvoice"' is not assignable to parameter of type '"sendClientLoginLink" | "reticulateSplines" | "clientCreated"'
  await outbox.send('sendInvoice', {});
  // @ts-expect-error Argument of type '{}' is not assignable to parameter of type 'SendClientLoginLink' ... Property 'clientId' is missing in type '{}'
  await outbox.send('sendClientLoginLink', {});
  // @ts-expect-error Object literal may only specify known properties, and 'outsideTransaction' does not exist in type 'EnqueueOptions'
  await outbox.send('sendClientLoginLink', { clientId: 1 }, { outsideTransaction: true });
}
