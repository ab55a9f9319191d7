import { useForm } from 'react-hook-form';
import { PASSWORD_MIN_LENGTH, type SignUpInput, signUpInput } from '../../../../shared/schemas/identity.ts';
import { trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { Field, FormError, FormField, Input } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { useSessionChanged } from './use-session.ts';

export function SignUpForm({ next = '/' }: { next?: string }) {
  const form = useForm<SignUpInput>({
    resolver: zodResolver(signUpInput),
    defaultValues: { name: '', email: '', password: '' },
  });
  const sessionChanged = useSessionChanged();
  const signUp = trpc.auth.signUp.useMutation({
    onSuccess: () => sessionChanged(next),
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'email', 'password']),
  });
  const { errors } = form.formState;

  return (
    <form noValidate className="space-y-5" onSubmit={form.handleSubmit((values) => signUp.mutate(values))}>
      <FormField form={form} name="name" label="Name" autoComplete="name" />
      <FormField form={form} name="email" label="Email" type="email" autoComplete="email" />
      <Field
        label="Password"
        error={errors.password?.message}
        hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
      >
        {(control) => (
          <Input {...control} type="password" autoComplete="new-password" {...form.register('password')} />
        )}
      </Field>
      <FormError message={errors.root?.server?.message} />
      <Button type="submit" className="w-full" busy={signUp.isPending}>
        Create account
      </Button>
    </form>
  );
}
