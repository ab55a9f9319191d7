// `npm run admin -- <command>`: the admin procedures over HTTP with the vanilla tRPC client and an
// API key with the `admin` scope (FORGELINE_URL, FORGELINE_API_KEY). Typed by the same AppRouter
// as the React client: no separate contract. Tables for people, `--json` for scripts.
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from '../router.ts';

const USAGE = `usage: npm run admin -- <command> [options] [--json]

  users [--search <text>] [--role <role>] [--status <status>] [--page <n>]
  user <user-id>
  ban <user-id> --reason <text>        unban <user-id>
  set-role <user-id> <role>
  adjust <user-id> <amount> --reason <text>
  transactions [--user <user-id>] [--limit <n>]
  stats

environment: FORGELINE_URL (default http://localhost:3000), FORGELINE_API_KEY (an admin-scoped key)`;

export type CliIo = { out: (line: string) => void; env: Record<string, string | undefined> };

function parse(argv: string[]) {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        options[arg.slice(2)] = next;
        i++;
      } else options[arg.slice(2)] = true;
    } else positional.push(arg);
  }
  return { positional, options };
}

/** Aligned columns, like `column -t`. */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const keys = Object.keys(rows[0] as object);
  const cell = (value: unknown) =>
    value instanceof Date ? value.toISOString() : value === null || value === undefined ? '' : String(value);
  const widths = keys.map((key) => Math.max(key.length, ...rows.map((row) => cell(row[key]).length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(keys),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.map((row) => line(keys.map((key) => cell(row[key])))),
  ].join('\n');
}

export async function runAdminCli(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parse(argv);
  const [command, ...args] = positional;
  const json = options.json === true;
  const key = io.env.FORGELINE_API_KEY;
  if (!command || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  if (!key) {
    io.out('FORGELINE_API_KEY is not set (create an admin-scoped key on the API keys page)');
    return 2;
  }
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${(io.env.FORGELINE_URL ?? 'http://localhost:3000').replace(/\/$/, '')}/trpc`,
        transformer: superjson,
        headers: () => ({ authorization: `Bearer ${key}` }),
      }),
    ],
  });
  const opt = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const print = (value: unknown, rows?: Record<string, unknown>[]) =>
    io.out(json ? JSON.stringify(value, null, 2) : rows ? table(rows) : JSON.stringify(value, null, 2));

  try {
    switch (command) {
      case 'users': {
        const result = await client.admin.users.list.query({
          search: opt('search'),
          role: opt('role') as never,
          status: opt('status') as never,
          page: opt('page') ? Number(opt('page')) : 1,
        });
        print(
          result,
          result.items.map((u) => ({
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            status: u.status,
            credits: u.balance,
          })),
        );
        if (!json) io.out(`page ${result.page} · ${result.total} users`);
        return 0;
      }
      case 'user': {
        const user = await client.admin.users.get.query({ userId: args[0] ?? '' });
        print(user, [
          {
            id: user.id,
            email: user.email,
            role: user.role,
            status: user.status,
            credits: user.balance.balance,
            sessions: user.activeSessions,
            generations: user.generations,
          },
        ]);
        return 0;
      }
      case 'ban':
        print(await client.admin.users.ban.mutate({ userId: args[0] ?? '', reason: opt('reason') ?? '' }));
        return 0;
      case 'unban':
        print(await client.admin.users.unban.mutate({ userId: args[0] ?? '' }));
        return 0;
      case 'set-role':
        print(await client.admin.users.setRole.mutate({ userId: args[0] ?? '', role: args[1] as never }));
        return 0;
      case 'adjust': {
        const result = await client.admin.credits.adjust.mutate({
          userId: args[0] ?? '',
          amount: Number(args[1]),
          reason: opt('reason') ?? '',
        });
        print(result, [result]);
        return 0;
      }
      case 'transactions': {
        const page = await client.admin.credits.transactions.query({
          userId: opt('user'),
          limit: opt('limit') ? Number(opt('limit')) : 50,
        });
        print(
          page,
          page.items.map((t) => ({
            at: t.createdAt,
            user: t.user?.email ?? '',
            type: t.type,
            amount: t.amount,
            balance: t.balanceAfter,
            description: t.description ?? '',
          })),
        );
        return 0;
      }
      case 'stats': {
        const o = await client.admin.stats.overview.query();
        print(o, [
          { metric: 'users', value: o.users.total },
          { metric: 'active users', value: o.users.active },
          { metric: 'new users (7 days)', value: o.users.new7d },
          { metric: 'credits granted', value: o.credits.granted },
          { metric: 'credits purchased', value: o.credits.purchased },
          { metric: 'credits used', value: o.credits.used },
          { metric: 'credits refunded', value: o.credits.refunded },
          ...o.revenue.map((r) => ({ metric: `revenue (${r.currency})`, value: (r.cents / 100).toFixed(2) })),
        ]);
        return 0;
      }
      default:
        io.out(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const fields = error.data?.fieldErrors as Record<string, string[]> | null | undefined;
      const detail =
        fields && Object.keys(fields).length
          ? ` (${Object.entries(fields)
              .map(([k, v]) => `${k}: ${v.join(', ')}`)
              .join('; ')})`
          : '';
      io.out(`error: ${error.data?.code ?? 'ERROR'}: ${error.message}${detail}`);
      return 1;
    }
    io.out(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await runAdminCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    env: process.env,
  });
}
