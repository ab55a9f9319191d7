// The app: the tRPC + TanStack Query providers and the routes. Every page is its own chunk
// (React.lazy), so a visitor downloads the code of the page they open, not the whole app: the
// landing and sign-in pages stay small (a browser test holds them to a budget).
import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useState } from 'react';
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { signInPath, useMe } from './features/identity/use-session.ts';
import { createQueryClient, createTrpcClient, session, trpc } from './lib/trpc.ts';
import { SkeletonPage } from './ui/skeleton.tsx';

/** A page component loaded on first use: `name` is its export in the module. */
const page = <T, K extends keyof T>(load: () => Promise<T>, name: K) =>
  lazy(async () => ({ default: (await load())[name] as React.ComponentType }));

const Frame = page(() => import('./routes/frame.tsx'), 'Frame');
const LandingPage = page(() => import('./routes/landing.tsx'), 'LandingPage');
const DashboardPage = page(() => import('./routes/dashboard.tsx'), 'DashboardPage');
const SignInPage = page(() => import('./routes/auth-pages.tsx'), 'SignInPage');
const SignUpPage = page(() => import('./routes/sign-up.tsx'), 'SignUpPage');
const ForgotPasswordPage = page(() => import('./routes/account-pages.tsx'), 'ForgotPasswordPage');
const ResetPasswordPage = page(() => import('./routes/account-pages.tsx'), 'ResetPasswordPage');
const VerifyEmailPage = page(() => import('./routes/account-pages.tsx'), 'VerifyEmailPage');
const AcceptInvitationPage = page(() => import('./routes/accept-invitation.tsx'), 'AcceptInvitationPage');
const GeneratePage = page(() => import('./routes/generate.tsx'), 'GeneratePage');
const HistoryPage = page(() => import('./routes/history.tsx'), 'HistoryPage');
const GenerationPage = page(() => import('./routes/history.tsx'), 'GenerationPage');
const FilesPage = page(() => import('./routes/files.tsx'), 'FilesPage');
const PricingPage = page(() => import('./routes/pricing.tsx'), 'PricingPage');
const BillingPage = page(() => import('./routes/billing.tsx'), 'BillingPage');
const DevCheckoutPage = page(() => import('./routes/dev-checkout.tsx'), 'DevCheckoutPage');
const ProjectsPage = page(() => import('./routes/projects.tsx'), 'ProjectsPage');
const ProjectDetailPage = page(() => import('./routes/projects.tsx'), 'ProjectDetailPage');
const OrgsPage = page(() => import('./routes/orgs.tsx'), 'OrgsPage');
const SettingsPage = page(() => import('./routes/settings.tsx'), 'SettingsPage');
const ApiKeysPage = page(() => import('./routes/api-keys.tsx'), 'ApiKeysPage');
const AdminLayout = page(() => import('./routes/admin/admin-layout.tsx'), 'AdminLayout');
const AdminOverviewPage = page(() => import('./routes/admin/overview.tsx'), 'AdminOverviewPage');
const AdminUsersPage = page(() => import('./routes/admin/users.tsx'), 'AdminUsersPage');
const AdminUserPage = page(() => import('./routes/admin/user-detail.tsx'), 'AdminUserPage');
const AdminCatalogPage = page(() => import('./routes/admin/catalog.tsx'), 'AdminCatalogPage');
const AdminAuditPage = page(() => import('./routes/admin/audit.tsx'), 'AdminAuditPage');
const AdminSystemPage = page(() => import('./routes/admin/system.tsx'), 'AdminSystemPage');
const NotFoundPage = page(() => import('./routes/not-found.tsx'), 'NotFoundPage');

/** A full-screen placeholder while a page's code loads (the frame shows its own inside). */
function PageLoading() {
  return (
    <div className="mx-auto max-w-5xl px-4 py-10">
      <SkeletonPage />
    </div>
  );
}

const standalone = (element: ReactNode) => <Suspense fallback={<PageLoading />}>{element}</Suspense>;

/** `/`: the dashboard for a signed-in user, the landing page for everyone else. */
function Home() {
  const me = useMe();
  if (me.isPending) return <SkeletonPage />;
  return me.data ? <DashboardPage /> : <LandingPage />;
}

/** The pages behind sign-in: anyone else goes to sign in, and comes back here afterwards. */
function RequireUser() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <SkeletonPage />;
  if (!me.data) {
    return (
      <Navigate
        to={signInPath(location.pathname + location.search)}
        state={{ sessionEnded: session.ended }}
        replace
      />
    );
  }
  return <Outlet />;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/sign-in" element={standalone(<SignInPage />)} />
      <Route path="/sign-up" element={standalone(<SignUpPage />)} />
      <Route path="/forgot-password" element={standalone(<ForgotPasswordPage />)} />
      <Route path="/reset-password" element={standalone(<ResetPasswordPage />)} />
      <Route path="/verify-email" element={standalone(<VerifyEmailPage />)} />
      <Route path="/invitations/accept" element={standalone(<AcceptInvitationPage />)} />
      <Route element={standalone(<Frame />)}>
        <Route index element={<Home />} />
        <Route path="pricing" element={<PricingPage />} />
        <Route element={<RequireUser />}>
          <Route path="generate" element={<GeneratePage />} />
          <Route path="history" element={<HistoryPage />} />
          <Route path="history/:id" element={<GenerationPage />} />
          <Route path="files" element={<FilesPage />} />
          <Route path="billing" element={<BillingPage />} />
          <Route path="billing/checkout" element={<DevCheckoutPage />} />
          <Route path="projects" element={<ProjectsPage />} />
          <Route path="projects/:id" element={<ProjectDetailPage />} />
          <Route path="orgs" element={<OrgsPage />} />
          <Route path="settings" element={<SettingsPage />} />
          <Route path="settings/api-keys" element={<ApiKeysPage />} />
          <Route path="admin" element={<AdminLayout />}>
            <Route index element={<AdminOverviewPage />} />
            <Route path="users" element={<AdminUsersPage />} />
            <Route path="users/:id" element={<AdminUserPage />} />
            <Route path="catalog" element={<AdminCatalogPage />} />
            <Route path="audit" element={<AdminAuditPage />} />
            <Route path="system" element={<AdminSystemPage />} />
          </Route>
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createTrpcClient);
  return (
    <trpc.Provider client={trpcClient} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </QueryClientProvider>
    </trpc.Provider>
  );
}
