// A new project from a template, owned by the user or one of their organizations.
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { createProjectInput, PROJECT_TEMPLATES } from '../../../../shared/schemas/projects.ts';
import { humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { Field, FormError, FormField, inputClass } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card } from '../../ui/layout.tsx';

export function CreateProjectCard() {
  const orgs = trpc.orgs.list.useQuery();
  const utils = trpc.useUtils();
  const form = useForm<z.input<typeof createProjectInput>>({
    resolver: zodResolver(createProjectInput),
    defaultValues: { name: '', template: 'saas', description: '', organizationId: null },
  });
  const create = trpc.projects.create.useMutation({
    onSuccess: async () => {
      form.reset();
      await utils.projects.list.invalidate();
    },
    onError: (error) =>
      applyServerErrors(error, form.setError, ['name', 'template', 'description', 'organizationId']),
  });
  const { errors } = form.formState;
  return (
    <Card title="New project">
      <form noValidate className="space-y-4" onSubmit={form.handleSubmit((values) => create.mutate(values))}>
        <FormField form={form} name="name" label="Project name" />
        <Field label="Template" error={errors.template?.message}>
          {(control) => (
            <select {...control} className={inputClass} {...form.register('template')}>
              {PROJECT_TEMPLATES.map((t) => (
                <option key={t} value={t}>
                  {humanize(t)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <FormField form={form} name="description" label="Description" />
        {orgs.data && orgs.data.length > 0 && (
          <Field label="Owner" error={errors.organizationId?.message}>
            {(control) => (
              <select
                {...control}
                className={inputClass}
                {...form.register('organizationId', { setValueAs: (v) => v || null })}
              >
                <option value="">Just me</option>
                {orgs.data.map((org) => (
                  <option key={org.id} value={org.id}>
                    {org.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <FormError message={errors.root?.server?.message} />
        <Button type="submit" className="w-full" busy={create.isPending}>
          Create project
        </Button>
      </form>
    </Card>
  );
}
