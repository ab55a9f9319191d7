// The conditional status move, one statement for every status machine (generations, projects):
//
//   update <table> set status = <to>, updated_at = now(), "<column>" = <value> …
//    where id = <id> and status in (<from> …) returning <columns>
//
// Under READ COMMITTED the UPDATE re-checks its WHERE against the latest committed row, so of two
// concurrent moves from the same status only one matches: the other gets no row back and must
// change nothing (it lost the race). `fields` are column names (written by our code, never input).
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql.ts';

export type StatusMove = {
  /** The table, with `id` and `status` columns. */
  table: string;
  id: string;
  /** The statuses the row may move from. */
  from: readonly string[];
  to: string;
  /** Other columns to set with the move (column name → value). */
  fields?: Record<string, unknown>;
  /** What to return of the moved row (SQL column list). */
  returning: string;
};

/** Runs the move in `em`'s unit of work; the moved row, or none when the row was not in `from`. */
export async function moveStatus<T>(em: EntityManager, move: StatusMove): Promise<T[]> {
  if (move.from.length === 0) return [];
  const columns = Object.keys(move.fields ?? {});
  const params: unknown[] = [
    move.to,
    ...columns.map((column) => move.fields?.[column]),
    move.id,
    ...move.from,
  ];
  const assignments = columns.map((column, i) => `, "${column}" = $${i + 2}`).join('');
  const idAt = columns.length + 2;
  const statuses = move.from.map((_, i) => `$${idAt + 1 + i}`).join(', ');
  return sql<T>(
    em,
    `update ${move.table} set status = $1, updated_at = now()${assignments}
      where id = $${idAt} and status in (${statuses}) returning ${move.returning}`,
    params,
  );
}
