// Users: search (debounced), role/status filters, pages with a total.
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import {
  USER_ROLES,
  USER_STATUSES,
  type UserRole,
  type UserStatus,
} from '../../../../shared/schemas/identity.ts';
import { formatDateTime, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Empty, ErrorState, Loading, PageHeader } from '../../ui/layout.tsx';

export function AdminUsersPage() {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<UserRole | ''>('');
  const [status, setStatus] = useState<UserStatus | ''>('');
  const [page, setPage] = useState(1);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(text.trim());
      setPage(1);
    }, 250);
    return () => clearTimeout(timer);
  }, [text]);
  const list = trpc.admin.users.list.useQuery(
    { search: search || undefined, role: role || undefined, status: status || undefined, page, pageSize: 25 },
    { placeholderData: (previous) => previous },
  );
  const pages = list.data ? Math.max(1, Math.ceil(list.data.total / list.data.pageSize)) : 1;
  return (
    <>
      <PageHeader
        title="Users"
        description={list.data ? `${list.data.total.toLocaleString()} matching` : undefined}
      />
      <div className="mb-4 flex flex-wrap gap-3">
        <input
          type="search"
          aria-label="Search users"
          placeholder="Search name or email"
          className={`${inputClass} max-w-xs`}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <select
          aria-label="Role"
          className={`${inputClass} w-auto`}
          value={role}
          onChange={(e) => {
            setRole(e.target.value as UserRole | '');
            setPage(1);
          }}
        >
          <option value="">Any role</option>
          {USER_ROLES.map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </select>
        <select
          aria-label="Status"
          className={`${inputClass} w-auto`}
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as UserStatus | '');
            setPage(1);
          }}
        >
          <option value="">Any status</option>
          {USER_STATUSES.map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </select>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No users match" />
      ) : (
        <div className="overflow-x-auto rounded-2xl bg-white shadow-sm ring-1 ring-slate-200">
          <table className="min-w-full text-sm" data-testid="admin-users">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-4 py-2 font-medium">User</th>
                <th className="px-4 py-2 font-medium">Role</th>
                <th className="px-4 py-2 font-medium">Status</th>
                <th className="px-4 py-2 text-right font-medium">Credits</th>
                <th className="px-4 py-2 font-medium">Joined</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {list.data.items.map((user) => (
                <tr key={user.id} className="hover:bg-slate-50">
                  <td className="px-4 py-2.5">
                    <Link
                      to={`/admin/users/${user.id}`}
                      className="font-medium text-indigo-700 hover:underline"
                    >
                      {user.email}
                    </Link>
                    <p className="text-xs text-slate-600">{user.name}</p>
                  </td>
                  <td className="px-4 py-2.5">{humanize(user.role)}</td>
                  <td className="px-4 py-2.5">{humanize(user.status)}</td>
                  <td className="px-4 py-2.5 text-right tabular-nums">{user.balance ?? '—'}</td>
                  <td className="whitespace-nowrap px-4 py-2.5 text-slate-600">
                    {formatDateTime(user.createdAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-sm text-slate-600">
            <span>
              Page {page} of {pages}
            </span>
            <div className="flex gap-2">
              <Button variant="secondary" disabled={page <= 1} onClick={() => setPage((p) => p - 1)}>
                Previous
              </Button>
              <Button variant="secondary" disabled={page >= pages} onClick={() => setPage((p) => p + 1)}>
                Next
              </Button>
            </div>
          </div>
        </div>
      )}
    </>
  );
}
