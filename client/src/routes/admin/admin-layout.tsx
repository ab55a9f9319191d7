// The admin area's frame: its sub-navigation, and the role guard (moderators read, admins act).
import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { useStaffRole } from '../../features/admin/use-role.ts';
import { Loading } from '../../ui/layout.tsx';
import { SkeletonPage } from '../../ui/skeleton.tsx';

const SECTIONS = [
  { to: '/admin', label: 'Overview', end: true },
  { to: '/admin/users', label: 'Users', end: false },
  { to: '/admin/catalog', label: 'Catalog', end: false },
  { to: '/admin/audit', label: 'Audit log', end: false },
  { to: '/admin/system', label: 'System', end: false },
] as const;

export function AdminLayout() {
  const role = useStaffRole();
  if (role.isPending) return <Loading />;
  if (!role.canRead) {
    return (
      <p className="rounded-xl bg-amber-50 p-6 text-sm text-amber-900 ring-1 ring-amber-200">
        The admin area is for moderators and administrators.
      </p>
    );
  }
  return (
    <div>
      <nav
        aria-label="Admin"
        className="mb-6 flex gap-0.5 overflow-x-auto sm:gap-1 border-b border-slate-200 pb-2"
      >
        {SECTIONS.map((section) => (
          <NavLink
            key={section.to}
            to={section.to}
            end={section.end}
            className={({ isActive }) =>
              `whitespace-nowrap rounded-lg px-2 py-1.5 text-sm font-medium sm:px-3 ${isActive ? 'bg-slate-900 text-white' : 'text-slate-600 hover:bg-slate-100'}`
            }
          >
            {section.label}
          </NavLink>
        ))}
        {!role.canWrite && (
          <span className="ml-auto self-center whitespace-nowrap text-xs text-slate-600">
            Read-only (moderator)
          </span>
        )}
      </nav>
      <Suspense fallback={<SkeletonPage />}>
        <Outlet />
      </Suspense>
    </div>
  );
}
