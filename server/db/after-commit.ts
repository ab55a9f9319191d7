// Work that must wait until the caller's transaction has committed — waking job workers, dropping
// a cached read — and must not happen if it rolls back. Outside a transaction it runs at once.
//
// Keyed by the transaction MikroORM reports in its commit/rollback events (afterCommitSubscriber is
// in the ORM configuration). A savepoint (a nested em.transactional) reports its own release as a
// commit: work registered inside one runs then, before the outer commit. Use this only for hints
// that are harmless when early (a worker that wakes too soon finds nothing and polls; a cache
// dropped too soon is read again).
import type { EntityManager } from '@mikro-orm/postgresql';

const pending = new WeakMap<object, (() => void)[]>();

export function afterCommit(em: EntityManager, work: () => void): void {
  const transaction = em.getTransactionContext<object>();
  if (!transaction) {
    work();
    return;
  }
  const list = pending.get(transaction);
  if (list) list.push(work);
  else pending.set(transaction, [work]);
}

type TransactionEvent = { transaction?: unknown };

/** The ORM's event subscriber that runs (or drops) the registered work (see mikro-orm.config.ts). */
export const afterCommitSubscriber = {
  afterTransactionCommit({ transaction }: TransactionEvent) {
    if (!transaction || typeof transaction !== 'object') return;
    const list = pending.get(transaction);
    if (!list) return;
    pending.delete(transaction);
    for (const work of list) work();
  },
  afterTransactionRollback({ transaction }: TransactionEvent) {
    if (transaction && typeof transaction === 'object') pending.delete(transaction);
  },
};
