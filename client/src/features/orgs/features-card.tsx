// The organization's features board: add tagged features, filter by tags and search.
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { createFeatureInput, type MembershipRole } from '../../../../shared/schemas/orgs.ts';
import '../../../../shared/validation-messages.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Field, Input } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card, Empty } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';
import { atLeast } from './roles.ts';

export function FeaturesCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
  const [tags, setTags] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const features = trpc.orgs.features.list.useInfiniteQuery(
    { organizationId: orgId, tags: tags.length ? tags : undefined, search: search || undefined, limit: 30 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const utils = trpc.useUtils();
  const form = useForm<{ name: string; description: string; tags: string }>({
    defaultValues: { name: '', description: '', tags: '' },
  });
  const create = trpc.orgs.features.create.useMutation({
    onSuccess: async () => {
      form.reset();
      await utils.orgs.features.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'description', 'tags']),
  });
  const remove = trpc.orgs.features.remove.useMutation({
    onSuccess: () => utils.orgs.features.list.invalidate(),
  });
  const allTags = features.data?.pages[0]?.allTags ?? [];
  return (
    <Card title="Features board">
      <form
        noValidate
        className="mb-4 grid gap-3 sm:grid-cols-2"
        onSubmit={form.handleSubmit((values) => {
          const parsed = createFeatureInput.safeParse({
            name: values.name,
            description: values.description || null,
            tags: values.tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          });
          if (!parsed.success) {
            // Each issue on its field ("tags.2" is the third tag: it belongs to the tags field).
            for (const issue of parsed.error.issues) {
              const field = String(issue.path[0] ?? 'name') as 'name' | 'description' | 'tags';
              form.setError(field, { message: issue.message });
            }
            return;
          }
          create.mutate({ organizationId: orgId, ...parsed.data });
        })}
      >
        <Field label="Feature" error={form.formState.errors.name?.message}>
          {(control) => <Input {...control} {...form.register('name')} />}
        </Field>
        <Field label="Tags" hint="Comma-separated" error={form.formState.errors.tags?.message}>
          {(control) => <Input {...control} {...form.register('tags')} />}
        </Field>
        <div className="sm:col-span-2">
          <Field label="Description" error={form.formState.errors.description?.message}>
            {(control) => <Input {...control} {...form.register('description')} />}
          </Field>
        </div>
        <Button type="submit" busy={create.isPending} className="sm:col-span-2">
          Add feature
        </Button>
      </form>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <Input
          aria-label="Search features"
          placeholder="Search…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        {allTags.map((tag) => (
          <button
            type="button"
            key={tag}
            aria-pressed={tags.includes(tag)}
            onClick={() =>
              setTags((current) =>
                current.includes(tag) ? current.filter((t) => t !== tag) : [...current, tag],
              )
            }
            className={`rounded-full px-2.5 py-1 text-xs font-medium ring-1 ${tags.includes(tag) ? 'bg-indigo-600 text-white ring-indigo-600' : 'bg-white text-slate-700 ring-slate-300'}`}
          >
            #{tag}
          </button>
        ))}
      </div>
      <QueryState
        query={features}
        skeleton={<SkeletonRows rows={3} label="Loading features" />}
        isEmpty={(data) => data.pages[0]?.items.length === 0}
        empty={<Empty title="No features match" />}
      >
        {(data) => (
          <ul className="grid gap-3 sm:grid-cols-2" aria-label="Features">
            {data.pages
              .flatMap((page) => page.items)
              .map((feature) => (
                <li key={feature.id} className="rounded-xl p-3 ring-1 ring-slate-200">
                  <div className="flex items-start justify-between gap-2">
                    <p className="font-medium text-slate-800">{feature.name}</p>
                    {atLeast(role, 'admin') && (
                      <ConfirmButton
                        label="Remove"
                        aria-label={`Remove ${feature.name}`}
                        title={`Remove ${feature.name}?`}
                        description="It leaves the board for everyone in the organization."
                        confirmLabel="Remove"
                        onConfirm={() => remove.mutate({ organizationId: orgId, featureId: feature.id })}
                      />
                    )}
                  </div>
                  {feature.description && <p className="text-sm text-slate-600">{feature.description}</p>}
                  <p className="mt-1 flex flex-wrap gap-1">
                    {feature.tags.map((tag) => (
                      <span
                        key={tag}
                        className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700"
                      >
                        #{tag}
                      </span>
                    ))}
                  </p>
                </li>
              ))}
          </ul>
        )}
      </QueryState>
      <LoadMore query={features} />
    </Card>
  );
}
