// A labelled form field with its hint and its error (client-side or from the server), wired for
// screen readers (aria-invalid, aria-describedby).
import { type InputHTMLAttributes, type ReactNode, useId } from 'react';

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
