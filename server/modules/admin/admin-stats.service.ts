// Business numbers for the admin dashboard. The overview reads the running totals kept on
// credit_balances (one row per user), never a scan of the ledger; the per-day series use the
// (type, created_at) and created_at indexes and stay bounded by the requested range. Both are read
// from a read replica when one is configured.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlOnReplica } from '../../db/sql.ts';

const num = (value: unknown) => Number(value ?? 0);

export async function overview(em: EntityManager) {
  const [users] = await sqlOnReplica<Record<string, string>>(
    em,
    `select count(*) as total,
            count(*) filter (where status = 'active') as active,
            count(*) filter (where created_at > now() - interval '7 days') as new_7d,
            count(*) filter (where created_at > now() - interval '30 days') as new_30d
       from users`,
    [],
  );
  const [ledger] = await sqlOnReplica<Record<string, string>>(
    em,
    `select coalesce(sum(total_granted), 0) as granted, coalesce(sum(total_purchased), 0) as purchased,
            coalesce(sum(total_used), 0) as used, coalesce(sum(total_refunded), 0) as refunded,
            coalesce(sum(total_clawed_back), 0) as clawed_back, coalesce(sum(balance), 0) as outstanding
       from credit_balances`,
    [],
  );
  const revenue = await sqlOnReplica<{ currency: string; cents: string; payments: string }>(
    em,
    `select currency, sum(amount_cents - refunded_cents) as cents, count(*) as payments
       from payments where status in ('succeeded', 'partially_refunded', 'disputed')
      group by currency order by sum(amount_cents - refunded_cents) desc`,
    [],
  );
  const generations = await sqlOnReplica<{ status: string; count: string }>(
    em,
    'select status, count(*) as count from generations where deleted_at is null group by status',
    [],
  );
  return {
    users: {
      total: num(users?.total),
      active: num(users?.active),
      new7d: num(users?.new_7d),
      new30d: num(users?.new_30d),
    },
    credits: {
      granted: num(ledger?.granted),
      purchased: num(ledger?.purchased),
      used: num(ledger?.used),
      refunded: num(ledger?.refunded),
      clawedBack: num(ledger?.clawed_back),
      outstanding: num(ledger?.outstanding),
    },
    revenue: revenue.map((row) => ({
      currency: row.currency,
      cents: num(row.cents),
      payments: num(row.payments),
    })),
    generations: Object.fromEntries(generations.map((row) => [row.status, num(row.count)])) as Record<
      string,
      number
    >,
  };
}

export async function timeseries(em: EntityManager, range: { from: Date; to: Date }) {
  const rows = await sqlOnReplica<Record<string, string | Date>>(
    em,
    `with days as (
       select generate_series(date_trunc('day', $1::timestamptz), date_trunc('day', $2::timestamptz), interval '1 day') as day),
     signups as (
       select date_trunc('day', created_at) as day, count(*) as n from users
        where created_at >= $3 and created_at < $4::timestamptz + interval '1 day' group by 1),
     ledger as (
       select date_trunc('day', created_at) as day,
              sum(amount) filter (where type in ('signup_bonus', 'subscription_grant', 'promo', 'admin_adjustment') and amount > 0) as granted,
              sum(amount) filter (where type = 'purchase') as purchased,
              -sum(amount) filter (where type = 'usage') as used,
              sum(amount) filter (where type = 'refund') as refunded
         from credit_transactions
        where created_at >= $5 and created_at < $6::timestamptz + interval '1 day' group by 1),
     gens as (
       select date_trunc('day', created_at) as day,
              count(*) filter (where status = 'succeeded') as succeeded,
              count(*) filter (where status = 'failed') as failed,
              count(*) filter (where status = 'canceled') as canceled,
              count(*) filter (where status in ('queued', 'running')) as pending
         from generations
        where created_at >= $7 and created_at < $8::timestamptz + interval '1 day' group by 1),
     revenue as (
       select date_trunc('day', created_at) as day, sum(amount_cents - refunded_cents) as cents from payments
        where status in ('succeeded', 'partially_refunded', 'disputed') and created_at >= $9 and created_at < $10::timestamptz + interval '1 day' group by 1)
     select d.day, coalesce(s.n, 0) as signups, coalesce(l.granted, 0) as granted, coalesce(l.purchased, 0) as purchased,
            coalesce(l.used, 0) as used, coalesce(l.refunded, 0) as refunded, coalesce(g.succeeded, 0) as succeeded,
            coalesce(g.failed, 0) as failed, coalesce(g.canceled, 0) as canceled, coalesce(g.pending, 0) as pending,
            coalesce(r.cents, 0) as revenue_cents
       from days d
       left join signups s on s.day = d.day left join ledger l on l.day = d.day
       left join gens g on g.day = d.day left join revenue r on r.day = d.day
      order by d.day`,
    [
      range.from,
      range.to,
      range.from,
      range.to,
      range.from,
      range.to,
      range.from,
      range.to,
      range.from,
      range.to,
    ],
  );
  return rows.map((row) => ({
    day: new Date(row.day as Date),
    signups: num(row.signups),
    credits: {
      granted: num(row.granted),
      purchased: num(row.purchased),
      used: num(row.used),
      refunded: num(row.refunded),
    },
    generations: {
      succeeded: num(row.succeeded),
      failed: num(row.failed),
      canceled: num(row.canceled),
      pending: num(row.pending),
    },
    revenueCents: num(row.revenue_cents),
  }));
}
