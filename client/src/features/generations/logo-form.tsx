// The logo generator form: validated by the same schema as generations.create, with the live
// cost (feature cost × outputs) against the live balance. The server charges; the client only shows.
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import type { z } from 'zod';
import { createLogoGenerationInput, OUTPUT_COUNT_MAX } from '../../../../shared/schemas/generations.ts';
import { formatCredits } from '../../lib/format.ts';
import { errorCode, trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { Field, FormError, Input, inputClass } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';

type LogoFormInput = z.input<typeof createLogoGenerationInput>;
type LogoFormOutput = z.output<typeof createLogoGenerationInput>;

const FIELDS = ['input.appName', 'input.appFocus', 'input.color1', 'input.color2', 'outputCount'] as const;

function ColorField({
  label,
  name,
  form,
}: {
  label: string;
  name: 'input.color1' | 'input.color2';
  form: ReturnType<typeof useForm<LogoFormInput, unknown, LogoFormOutput>>;
}) {
  const value = form.watch(name);
  const error =
    name === 'input.color1' ? form.formState.errors.input?.color1 : form.formState.errors.input?.color2;
  const full = /^#[0-9a-f]{6}$/i.test(value) ? value : '#000000';
  return (
    <Field label={label} error={error?.message}>
      {(control) => (
        <div className="flex items-center gap-2">
          <input
            type="color"
            aria-label={`${label} picker`}
            value={full}
            onChange={(event) => form.setValue(name, event.target.value, { shouldValidate: true })}
            className="h-9 w-12 shrink-0 cursor-pointer rounded-lg border-0 bg-transparent p-0"
          />
          <Input {...control} {...form.register(name)} spellCheck={false} className="font-mono" />
        </div>
      )}
    </Field>
  );
}

export function LogoForm({ onCreated }: { onCreated: (id: string) => void }) {
  const form = useForm<LogoFormInput, unknown, LogoFormOutput>({
    resolver: zodResolver(createLogoGenerationInput),
    defaultValues: {
      kind: 'logo',
      input: { appName: '', appFocus: '', color1: '#4f46e5', color2: '#f59e0b' },
      outputCount: 4,
    },
  });
  const utils = trpc.useUtils();
  const costs = trpc.credits.costs.useQuery();
  const balance = trpc.credits.balance.useQuery();
  const create = trpc.generations.create.useMutation({
    onSuccess: (generation) => {
      utils.generations.get.setData({ id: generation.id }, generation);
      void utils.credits.invalidate();
      void utils.generations.list.invalidate();
      onCreated(generation.id);
    },
    onError: (error) => {
      if (errorCode(error) === 'PAYMENT_REQUIRED') {
        form.setError('root.server', { type: 'server', message: error.message });
        void utils.credits.balance.invalidate();
        return;
      }
      applyServerErrors(error, form.setError, FIELDS);
    },
  });

  const outputCount = Number(form.watch('outputCount')) || 1;
  const unitCost = costs.data?.logo_generation;
  const cost = unitCost === undefined ? null : unitCost * outputCount;
  const short = cost !== null && balance.data !== undefined && balance.data.available < cost;
  const { errors } = form.formState;

  return (
    <form
      noValidate
      className="space-y-5"
      onSubmit={form.handleSubmit((values) =>
        create.mutate({ ...values, idempotencyKey: crypto.randomUUID() }),
      )}
    >
      <Field label="App name" error={errors.input?.appName?.message}>
        {(control) => (
          <Input {...control} placeholder="Orbit" autoComplete="off" {...form.register('input.appName')} />
        )}
      </Field>
      <Field
        label="What is it about?"
        error={errors.input?.appFocus?.message}
        hint="Words like music, finance, travel or code pick the icon family."
      >
        {(control) => (
          <Input
            {...control}
            placeholder="A budgeting app for students"
            {...form.register('input.appFocus')}
          />
        )}
      </Field>
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <ColorField label="Primary colour" name="input.color1" form={form} />
        <ColorField label="Accent colour" name="input.color2" form={form} />
      </div>
      <Field label="How many logos?" error={errors.outputCount?.message}>
        {(control) => (
          <select
            {...control}
            className={inputClass}
            {...form.register('outputCount', { valueAsNumber: true })}
          >
            {Array.from({ length: OUTPUT_COUNT_MAX }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        )}
      </Field>

      <div
        className="flex flex-wrap items-center justify-between gap-3 rounded-xl bg-slate-50 px-4 py-3 text-sm"
        aria-live="polite"
      >
        <span>
          Cost: <strong data-testid="cost">{cost === null ? '…' : formatCredits(cost)}</strong>
        </span>
        <span className={short ? 'font-semibold text-red-700' : 'text-slate-600'}>
          Available: {balance.data ? formatCredits(balance.data.available) : '…'}
        </span>
      </div>
      {short && (
        <p className="text-sm text-red-700">
          Not enough credits for {outputCount} {outputCount === 1 ? 'logo' : 'logos'}. Choose fewer, or{' '}
          <Link to="/pricing" className="font-semibold underline">
            top up
          </Link>
          .
        </p>
      )}
      <FormError message={errors.root?.server?.message} />
      <Button type="submit" className="w-full" busy={create.isPending} disabled={short}>
        Generate
      </Button>
    </form>
  );
}
