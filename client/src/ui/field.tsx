// A labelled form field with its hint and its error (client-side or from the server), wired for
// screen readers (aria-invalid, aria-describedby).
import { type InputHTMLAttributes, type ReactNode, useId } from 'react';
import type { FieldValues, Path, RegisterOptions, UseFormReturn } from 'react-hook-form';

type FieldProps = {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  children: (control: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
};

export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const describedBy =
    [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-slate-600">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

export const inputClass =
  'block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-600 focus:ring-2 focus:ring-inset focus:ring-indigo-600 aria-[invalid=true]:ring-red-500';

export function Input(props: InputHTMLAttributes<HTMLInputElement>) {
  return <input {...props} className={`${inputClass} ${props.className ?? ''}`} />;
}

type FormFieldProps<T extends FieldValues> = {
  form: UseFormReturn<T>;
  name: Path<T>;
  label: string;
  hint?: ReactNode;
  /** How the value is read back (setValueAs…): react-hook-form's register options. A number input reads as a number. */
  rules?: RegisterOptions<T, Path<T>>;
  /** An amount of money in this currency (a MoneyInput) rather than a plain input. */
  currency?: string;
  textarea?: boolean;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'form' | 'name'>;

/**
 * The usual form row: a Field whose input is registered on a react-hook-form form under `name`,
 * showing the error the form holds for it (client or server). Other input props pass through.
 */
export function FormField<T extends FieldValues>({
  form,
  name,
  label,
  hint,
  rules,
  currency,
  textarea,
  ...input
}: FormFieldProps<T>) {
  const { error } = form.getFieldState(name, form.formState);
  const registered = form.register(
    name,
    input.type === 'number' ? ({ valueAsNumber: true, ...rules } as RegisterOptions<T, Path<T>>) : rules,
  );
  return (
    <Field label={label} error={error?.message} hint={hint}>
      {(control) =>
        textarea ? (
          <textarea {...control} rows={3} className={`${inputClass} min-h-20`} {...registered} />
        ) : currency ? (
          <MoneyInput {...control} {...input} currency={currency} {...registered} />
        ) : (
          <Input {...control} {...input} {...registered} />
        )
      }
    </Field>
  );
}

/** A message for the whole form (not one field): a server error with no field to sit on. */
export function FormError({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p
      role="alert"
      className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 ring-1 ring-inset ring-red-200"
    >
      {message}
    </p>
  );
}

/** An amount of money typed in the currency's main unit ("9.99"), with its symbol in front. */
export function MoneyInput({
  currency = 'usd',
  ...props
}: InputHTMLAttributes<HTMLInputElement> & { currency?: string }) {
  const symbol =
    new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() })
      .formatToParts(0)
      .find((part) => part.type === 'currency')?.value ?? currency.toUpperCase();
  return (
    <div className="relative">
      <span
        aria-hidden="true"
        className="pointer-events-none absolute inset-y-0 left-3 flex items-center text-sm text-slate-600"
      >
        {symbol}
      </span>
      <input
        {...props}
        inputMode="decimal"
        autoComplete="off"
        className={`${inputClass} pl-7 tabular-nums`}
      />
    </div>
  );
}
