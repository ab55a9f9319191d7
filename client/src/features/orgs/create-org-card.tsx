import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { createOrgInput } from '../../../../shared/schemas/orgs.ts';
import { trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { FormError, FormField } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card } from '../../ui/layout.tsx';

export function CreateOrgCard({ onCreated }: { onCreated: (id: string) => void }) {
  const utils = trpc.useUtils();
  const form = useForm<z.input<typeof createOrgInput>>({
    resolver: zodResolver(createOrgInput),
    defaultValues: { name: '' },
  });
  const create = trpc.orgs.create.useMutation({
    onSuccess: async (org) => {
      form.reset();
      await utils.orgs.list.invalidate();
      onCreated(org.id);
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'slug']),
  });
  const { errors } = form.formState;
  return (
    <Card title="New organization">
      <form noValidate className="space-y-4" onSubmit={form.handleSubmit((values) => create.mutate(values))}>
        <FormField form={form} name="name" label="Organization name" />
        <FormField
          form={form}
          name="slug"
          label="Address (optional)"
          hint="Lowercase letters, digits and dashes"
          rules={{ setValueAs: (v) => v || undefined }}
        />
        <FormError message={errors.root?.server?.message} />
        <Button type="submit" className="w-full" busy={create.isPending}>
          Create organization
        </Button>
      </form>
    </Card>
  );
}
