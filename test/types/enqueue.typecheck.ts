// Compile-time checks of the job map, verified by `npm run typecheck` (tsc fails if an expected
// error does not occur). The sample's jobs.ts augments DoctorJobs with its two job types.
import type { OutboxService, TransactionClientLike } from 'doctor-job';
import '../../sample/jobs';

export async function typedEnqueue(outbox: OutboxService, tx: TransactionClientLike): Promise<void> {
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 1 });
  await outbox.enqueue(tx, 'reticulateSplines', { target: 'x' }, { delayMs: 10 });
  await outbox.enqueueMany(tx, [
    { type: 'sendClientLoginLink', payload: { clientId: 2 } },
    { type: 'reticulateSplines', payload: { target: 'y' }, maxAttempts: 2 },
  ]);

  // Without tx: joins the ambient @nestjs-cls/transactional transaction.
  await outbox.enqueue('sendClientLoginLink', { clientId: 3 }, { outsideTransaction: true });
  await outbox.enqueueMany([{ type: 'reticulateSplines', payload: { target: 'z' } }]);
  // @ts-expect-error a payload of the wrong shape, without tx
  await outbox.enqueue('reticulateSplines', { target: 1 });

  // @ts-expect-error an unknown job type
  await outbox.enqueue(tx, 'sendInvoice', {});
  // @ts-expect-error a payload of the wrong shape
  await outbox.enqueue(tx, 'sendClientLoginLink', { clientId: 'one' });
  // @ts-expect-error a payload missing its field
  await outbox.enqueue(tx, 'reticulateSplines', {});
  // @ts-expect-error a payload that belongs to the other type
  await outbox.enqueueMany(tx, [{ type: 'sendClientLoginLink', payload: { target: 'y' } }]);
}
