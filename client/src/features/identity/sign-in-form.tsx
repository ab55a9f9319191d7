import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import type { SignInInput } from '../../../../shared/schemas/identity.ts';
import { lazyZodResolver } from '../../lib/lazy-resolver.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { FormError, FormField } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { useSessionChanged } from './use-session.ts';

// signInInput, loaded with its validation code on the form's first use (see lazy-resolver.ts).
const validation = lazyZodResolver<SignInInput>(
  async () => (await import('../../../../shared/schemas/identity.ts')).signInInput,
);

export function SignInForm({ next = '/' }: { next?: string }) {
  const form = useForm<SignInInput>({
    resolver: validation.resolver,
    defaultValues: { email: '', password: '' },
  });
  const sessionChanged = useSessionChanged();
  const signIn = trpc.auth.signIn.useMutation({
    onSuccess: () => sessionChanged(next),
    onError: (error) => applyServerErrors(error, form.setError, ['email', 'password']),
  });
  const { errors } = form.formState;

  return (
    <form
      noValidate
      className="space-y-5"
      onFocus={validation.preload}
      onSubmit={form.handleSubmit((values) => signIn.mutate(values))}
    >
      <FormField form={form} name="email" label="Email" type="email" autoComplete="email" />
      <FormField
        form={form}
        name="password"
        label="Password"
        type="password"
        autoComplete="current-password"
      />
      <FormError message={errors.root?.server?.message} />
      <p className="-mt-2 text-right text-sm">
        <Link to="/forgot-password" className="font-medium text-indigo-700 hover:underline">
          Forgot your password?
        </Link>
      </p>
      <Button type="submit" className="w-full" busy={signIn.isPending}>
        Sign in
      </Button>
    </form>
  );
}
