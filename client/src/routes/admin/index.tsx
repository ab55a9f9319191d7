// The admin area's routes, loaded on demand (charts and editors stay out of the main bundle).
import type { RouteObject } from 'react-router';

export const adminRoute: RouteObject = {
  path: 'admin',
  lazy: async () => ({ Component: (await import('./admin-layout.tsx')).AdminLayout }),
  children: [
    { index: true, lazy: async () => ({ Component: (await import('./overview.tsx')).AdminOverviewPage }) },
    { path: 'users', lazy: async () => ({ Component: (await import('./users.tsx')).AdminUsersPage }) },
    {
      path: 'users/:id',
      lazy: async () => ({ Component: (await import('./user-detail.tsx')).AdminUserPage }),
    },
    { path: 'catalog', lazy: async () => ({ Component: (await import('./catalog.tsx')).AdminCatalogPage }) },
    { path: 'audit', lazy: async () => ({ Component: (await import('./audit.tsx')).AdminAuditPage }) },
    { path: 'system', lazy: async () => ({ Component: (await import('./system.tsx')).AdminSystemPage }) },
  ],
};
