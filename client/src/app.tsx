// The app: the tRPC + TanStack Query providers and the routes.
import { QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { createQueryClient, createTrpcClient, trpc } from './lib/trpc.ts';
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from './routes/account-pages.tsx';
import { adminRoute } from './routes/admin/index.tsx';
import { ApiKeysPage } from './routes/api-keys.tsx';
import { AppShell } from './routes/app-shell.tsx';
import { SignInPage, SignUpPage } from './routes/auth-pages.tsx';
import { BillingPage } from './routes/billing.tsx';
import { DashboardPage } from './routes/dashboard.tsx';
import { DevCheckoutPage } from './routes/dev-checkout.tsx';
import { FilesPage } from './routes/files.tsx';
import { GeneratePage } from './routes/generate.tsx';
import { HistoryPage } from './routes/history.tsx';
import { NotFoundPage } from './routes/not-found.tsx';
import { OrgsPage } from './routes/orgs.tsx';
import { PricingPage } from './routes/pricing.tsx';
import { ProjectDetailPage, ProjectsPage } from './routes/projects.tsx';
import { SettingsPage } from './routes/settings.tsx';

const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage /> },
  { path: '/sign-up', element: <SignUpPage /> },
  { path: '/forgot-password', element: <ForgotPasswordPage /> },
  { path: '/reset-password', element: <ResetPasswordPage /> },
  { path: '/verify-email', element: <VerifyEmailPage /> },
  {
    element: <AppShell />,
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'generate', element: <GeneratePage /> },
      { path: 'history', element: <HistoryPage /> },
      { path: 'files', element: <FilesPage /> },
      { path: 'pricing', element: <PricingPage /> },
      { path: 'billing', element: <BillingPage /> },
      { path: 'billing/checkout', element: <DevCheckoutPage /> },
      { path: 'projects', element: <ProjectsPage /> },
      { path: 'projects/:id', element: <ProjectDetailPage /> },
      { path: 'orgs', element: <OrgsPage /> },
      { path: 'settings', element: <SettingsPage /> },
      { path: 'settings/api-keys', element: <ApiKeysPage /> },
      adminRoute,
    ],
  },
  { path: '*', element: <NotFoundPage /> },
]);

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createTrpcClient);
  return (
    <trpc.Provider client={trpcClient} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </trpc.Provider>
  );
}
