// The pages email links open, and the way to ask for one: forgot password, reset password,
// verify email. Tokens come from the link's query string and go straight to the server, which
// alone decides whether they are valid.
import { useEffect, useRef } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useSearchParams } from 'react-router';
import { z } from 'zod';
import { passwordSchema, requestPasswordResetInput } from '../../../shared/schemas/identity.ts';
import { useSessionChanged } from '../features/identity/use-session.ts';
import { trpc } from '../lib/trpc.ts';
import { zodResolver } from '../lib/zod-form.ts';
import { Button } from '../ui/button.tsx';
import { Field, FormError, FormField, Input } from '../ui/field.tsx';
import { applyServerErrors } from '../ui/form.ts';
import { Loading } from '../ui/layout.tsx';
import { AuthFrame } from './auth-pages.tsx';

const backToSignIn = (
  <Link to="/sign-in" className="font-semibold text-indigo-700 hover:underline">
    Back to sign in
  </Link>
);

export function ForgotPasswordPage() {
  const form = useForm<z.input<typeof requestPasswordResetInput>>({
    resolver: zodResolver(requestPasswordResetInput),
    defaultValues: { email: '' },
  });
  const request = trpc.auth.requestPasswordReset.useMutation({
    onError: (error) => applyServerErrors(error, form.setError, ['email']),
  });
  return (
    <AuthFrame title="Reset your password" footer={backToSignIn}>
      {request.isSuccess ? (
        <p role="status" className="text-sm text-slate-700">
          If an account exists for <strong>{form.getValues('email')}</strong>, we sent it a link to choose a
          new password. The link works once, for one hour.
        </p>
      ) : (
        <form
          noValidate
          className="space-y-5"
          onSubmit={form.handleSubmit((values) => request.mutate(values))}
        >
          <Field label="Email" error={form.formState.errors.email?.message}>
            {(control) => (
              <Input {...control} type="email" autoComplete="email" {...form.register('email')} />
            )}
          </Field>
          <FormError message={form.formState.errors.root?.server?.message} />
          <Button type="submit" className="w-full" busy={request.isPending}>
            Send the reset link
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}

const newPasswordForm = z
  .object({ password: passwordSchema, confirm: z.string() })
  .refine((values) => values.password === values.confirm, {
    error: 'The passwords differ',
    path: ['confirm'],
  });

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const form = useForm<z.input<typeof newPasswordForm>>({
    resolver: zodResolver(newPasswordForm),
    defaultValues: { password: '', confirm: '' },
  });
  const sessionChanged = useSessionChanged();
  const reset = trpc.auth.resetPassword.useMutation({
    onSuccess: () => sessionChanged('/'),
    onError: (error) => applyServerErrors(error, form.setError, ['password']),
  });
  const { errors } = form.formState;
  return (
    <AuthFrame title="Choose a new password" footer={backToSignIn} forSignedIn>
      {token ? (
        <form
          noValidate
          className="space-y-5"
          onSubmit={form.handleSubmit((values) => reset.mutate({ token, password: values.password }))}
        >
          <FormField
            form={form}
            name="password"
            label="New password"
            type="password"
            autoComplete="new-password"
          />
          <FormField
            form={form}
            name="confirm"
            label="Repeat it"
            type="password"
            autoComplete="new-password"
          />
          <FormError message={errors.root?.server?.message} />
          <Button type="submit" className="w-full" busy={reset.isPending}>
            Set the new password
          </Button>
          {errors.root?.server && (
            <p className="text-sm text-slate-600">
              <Link to="/forgot-password" className="font-medium text-indigo-700 hover:underline">
                Ask for a new link
              </Link>
            </p>
          )}
        </form>
      ) : (
        <p role="alert" className="text-sm text-red-700">
          This link has no token. Open the link from the email again, or{' '}
          <Link to="/forgot-password" className="font-medium text-indigo-700 hover:underline">
            ask for a new one
          </Link>
          .
        </p>
      )}
    </AuthFrame>
  );
}

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const utils = trpc.useUtils();
  const verify = trpc.auth.verifyEmail.useMutation({ onSuccess: () => utils.auth.me.invalidate() });
  const sent = useRef(false);
  useEffect(() => {
    // Once per page load (StrictMode mounts twice; a token works once).
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate({ token });
    }
  }, [token, verify]);
  return (
    <AuthFrame
      title="Confirm your email"
      forSignedIn
      footer={
        <Link to="/" className="font-semibold text-indigo-700 hover:underline">
          Continue to Forgeline
        </Link>
      }
    >
      {!token ? (
        <p role="alert" className="text-sm text-red-700">
          This link has no token. Open the link from the email again.
        </p>
      ) : verify.isSuccess ? (
        <p role="status" className="text-sm text-emerald-700">
          Your email address is confirmed. Thank you!
        </p>
      ) : verify.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {verify.error.message}. You can ask for a new link in your account settings.
        </p>
      ) : (
        <Loading label="Confirming…" />
      )}
    </AuthFrame>
  );
}
