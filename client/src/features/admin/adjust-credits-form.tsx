import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { adjustCreditsInput } from '../../../../shared/schemas/admin.ts';
import { trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { FormError, FormField } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';

type Values = z.input<typeof adjustCreditsInput>;

export function AdjustCreditsForm({ userId }: { userId: string }) {
  const utils = trpc.useUtils();
  const form = useForm<Values>({
    resolver: zodResolver(adjustCreditsInput),
    defaultValues: { userId, amount: 0, reason: '' },
  });
  const adjust = trpc.admin.credits.adjust.useMutation({
    onSuccess: () => {
      form.reset({ userId, amount: 0, reason: '' });
      void utils.admin.users.get.invalidate({ userId });
      void utils.admin.credits.transactions.invalidate();
      void utils.admin.audit.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['amount', 'reason']),
  });
  const { errors } = form.formState;
  return (
    <form noValidate className="space-y-3" onSubmit={form.handleSubmit((values) => adjust.mutate(values))}>
      <FormField form={form} name="amount" label="Credits (negative to take away)" type="number" step={1} />
      <FormField form={form} name="reason" label="Reason" hint="Recorded in the ledger and the audit log." />
      <FormError message={errors.root?.server?.message} />
      {adjust.isSuccess && (
        <p role="status" className="text-sm text-emerald-700">
          Done: balance is now {adjust.data.balanceAfter}.
        </p>
      )}
      <Button type="submit" busy={adjust.isPending}>
        Adjust credits
      </Button>
    </form>
  );
}
