// Monthly statements: a user's ledger over one calendar month in UTC, summed by section — grants by
// source, purchases, usage and refunds by operation, clawbacks, reinstatements, expirations and
// adjustments — between the opening and the closing balance. One statement (one snapshot) reads
// the opening sum, the closing sum and the lines, so opening + Σ lines = closing holds exactly,
// whatever commits meanwhile. A row belongs to the month its `created_at` falls in.
// Released holds (a generation that failed or was canceled gave back what it held) moved no balance
// and wrote no ledger row: they are listed under `releases`, per operation, as information — their
// credits in `released`, their `amount` 0 — in the month the hold was released (settled_at). A
// part of a hold that a lapsed grant forfeited is an `expiration` row, listed with expirations.
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type CreditTransactionType,
  OPERATION_TYPES,
  STATEMENT_SECTION_OF_TYPE,
  STATEMENT_SECTIONS,
  type StatementSection,
  statementLineLabel,
} from '../../../shared/schemas/credits.ts';
import { OPERATION_OF_KIND } from '../../../shared/schemas/generations.ts';
import { AppError } from '../../common/app-error.ts';
import { sql } from '../../db/sql.ts';

export type StatementLine = {
  section: StatementSection;
  /** The grant's source (its ledger type) or the operation of usage and refunds; null otherwise. */
  key: string | null;
  label: string;
  /** Ledger rows in this line. */
  count: number;
  /** Signed credits: positive adds to the balance, negative takes away (0 for released holds). */
  amount: number;
  /** `releases` only: the credits those holds had reserved and gave back (no balance moved). */
  released: number;
};

export type StatementDto = {
  userId: string;
  month: string;
  /** First instant of the month (UTC). */
  from: Date;
  /** First instant of the next month (UTC): rows before it belong to this month or earlier. */
  to: Date;
  openingBalance: number;
  closingBalance: number;
  /** Credits added and taken away during the month (closing = opening + credited − debited). */
  credited: number;
  debited: number;
  transactionCount: number;
  lines: StatementLine[];
};

/** The UTC bounds of `YYYY-MM`; BAD_REQUEST (on `month`) for a month that has not begun. */
export function monthBounds(month: string, now = new Date()) {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const from = new Date(Date.UTC(year, monthNumber - 1, 1));
  const to = new Date(Date.UTC(year, monthNumber, 1));
  if (from.getTime() > now.getTime()) {
    throw new AppError('bad_request', 'That month has not begun yet', {
      fieldErrors: { month: ['Pick this month or an earlier one'] },
    });
  }
  return { from, to };
}

type Row = {
  kind: 'opening' | 'closing' | 'line' | 'release';
  type: CreditTransactionType | null;
  operation: string | null;
  credit: boolean | null;
  count: number;
  amount: string;
};

// The refund of a generation is listed under the operation of the charge it gives back.
const STATEMENT_SQL = `
select 'opening' as kind, null as type, null as operation, null::boolean as credit,
       count(*)::int as count, coalesce(sum(amount), 0)::bigint as amount
  from credit_transactions where user_id = $1 and created_at < $2
union all
select 'closing', null, null, null, count(*)::int, coalesce(sum(amount), 0)::bigint
  from credit_transactions where user_id = $1 and created_at < $3
union all
select 'line', t.type::text, coalesce(t.operation_type::text, charge.operation_type::text), t.amount > 0,
       count(*)::int, sum(t.amount)::bigint
  from credit_transactions t
  left join lateral (
    select u.operation_type from credit_transactions u
     where t.type = 'refund' and u.user_id = t.user_id and u.generation_id = t.generation_id and u.type = 'usage'
     limit 1) charge on true
 where t.user_id = $1 and t.created_at >= $2 and t.created_at < $3
 group by 1, 2, 3, 4
union all
select 'release', null, case g.kind ${Object.entries(OPERATION_OF_KIND)
  .map(([kind, operation]) => `when '${kind}' then '${operation}'`)
  .join(' ')} end, null, count(*)::int, sum(h.amount)::bigint
  from credit_holds h left join generations g on g.id = h.generation_id
 where h.user_id = $1 and h.status = 'released' and h.settled_at >= $2 and h.settled_at < $3
 group by 3`;

const sectionOf = (type: CreditTransactionType, credit: boolean): StatementSection =>
  type === 'admin_adjustment' && !credit ? 'adjustments' : STATEMENT_SECTION_OF_TYPE[type];

/** Which part of a line identifies it within its section. */
function keyOf(section: StatementSection, type: CreditTransactionType, operation: string | null) {
  if (section === 'grants') return type;
  if (section === 'usage' || section === 'refunds') return operation;
  return null;
}

const KEY_ORDER: readonly (string | null)[] = [
  'signup_bonus',
  'subscription_grant',
  'promo',
  'admin_adjustment',
  ...OPERATION_TYPES,
  null,
];

/** The statement of `userId` for `month` (YYYY-MM, UTC). */
export async function statementOf(
  em: EntityManager,
  userId: string,
  month: string,
  now = new Date(),
): Promise<StatementDto> {
  const { from, to } = monthBounds(month, now);
  const rows = await sql<Row>(em, STATEMENT_SQL, [userId, from, to]);
  let openingBalance = 0;
  let closingBalance = 0;
  const lines = new Map<string, StatementLine>();
  for (const row of rows) {
    const amount = Number(row.amount);
    if (row.kind === 'opening') openingBalance = amount;
    else if (row.kind === 'closing') closingBalance = amount;
    else if (row.kind === 'release') {
      const key = row.operation;
      lines.set(`releases:${key}`, {
        section: 'releases',
        key,
        label: statementLineLabel('releases', key),
        count: Number(row.count),
        amount: 0,
        released: amount,
      });
    } else if (row.type) {
      const section = sectionOf(row.type, Boolean(row.credit));
      const key = keyOf(section, row.type, row.operation);
      const id = `${section}:${key}`;
      const line = lines.get(id) ?? {
        section,
        key,
        label: statementLineLabel(section, key),
        count: 0,
        amount: 0,
        released: 0,
      };
      line.count += Number(row.count);
      line.amount += amount;
      lines.set(id, line);
    }
  }
  const ordered = [...lines.values()].sort(
    (a, b) =>
      STATEMENT_SECTIONS.indexOf(a.section) - STATEMENT_SECTIONS.indexOf(b.section) ||
      KEY_ORDER.indexOf(a.key) - KEY_ORDER.indexOf(b.key),
  );
  const credited = ordered.reduce((sum, line) => sum + Math.max(0, line.amount), 0);
  const debited = ordered.reduce((sum, line) => sum + Math.max(0, -line.amount), 0);
  const net = ordered.reduce((sum, line) => sum + line.amount, 0);
  // One snapshot read all three sums: this holds unless a ledger type fell out of the lines.
  if (openingBalance + net !== closingBalance) {
    throw new Error(`Statement ${month} of ${userId} does not reconcile with the ledger`);
  }
  return {
    userId,
    month,
    from,
    to,
    openingBalance,
    closingBalance,
    credited,
    debited,
    transactionCount: ordered.reduce((sum, line) => sum + (line.section === 'releases' ? 0 : line.count), 0),
    lines: ordered,
  };
}
