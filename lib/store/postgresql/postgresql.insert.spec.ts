import type { AnnouncedTransaction } from '../job-store.interface';
import { InsertNotify } from './postgresql.insert';

describe('InsertNotify: which inserts carry pg_notify', () => {
  const token = 'store-token';
  const alone = { present: () => false };
  const others = { present: () => true };

  it('a transaction of the app\'s own always notifies itself (no announce follows its commit)', () => {
    expect(new InsertNotify(token, others).of(undefined)).toBe(true);
    expect(new InsertNotify(token, alone).of(undefined)).toBe(true);
  });

  it('while another instance listens, one open outbox.transaction at a time notifies itself, with the store\'s token', () => {
    const notify = new InsertNotify(token, others);
    const first: AnnouncedTransaction = { open: true };
    const second: AnnouncedTransaction = { open: true };
    expect(notify.of(first)).toEqual({ from: token });
    expect(first.notifies).toBe(true);
    expect(notify.of(first)).toEqual({ from: token }); // its later inserts too
    expect(notify.of(second)).toBe(false); // left to the announcer after its commit
    expect(second.notifies).toBeUndefined();
    first.open = false; // committed or rolled back
    expect(notify.of(second)).toEqual({ from: token }); // the next insert of one still open takes it
    expect(notify.of({ open: false })).toBe(false); // an insert through a transaction that has ended takes nothing
  });

  it('alone on the database, no outbox.transaction or send notifies', () => {
    const notify = new InsertNotify(token, alone);
    const transaction: AnnouncedTransaction = { open: true };
    expect(notify.of(transaction)).toBe(false);
    expect(transaction.notifies).toBeUndefined();
    expect(notify.ofSend()).toBe(false);
    expect(new InsertNotify(token, others).ofSend()).toEqual({ from: token });
  });
});
