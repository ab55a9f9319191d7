// A destructive action behind a confirmation dialog (native <dialog>: focus-trapped, Esc closes).
import { type ReactNode, useRef } from 'react';
import { Button } from './button.tsx';

type ConfirmButtonProps = {
  label: ReactNode;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  variant?: 'danger' | 'secondary' | 'ghost';
};

export function ConfirmButton({
  label,
  title,
  description,
  confirmLabel,
  onConfirm,
  busy,
  variant = 'ghost',
}: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <Button variant={variant} busy={busy} onClick={() => dialog.current?.showModal()}>
        {label}
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby="confirm-title"
        className="m-auto w-full max-w-sm rounded-2xl p-0 shadow-xl backdrop:bg-slate-900/40"
      >
        <form method="dialog" className="space-y-4 p-6">
          <h2 id="confirm-title" className="text-lg font-semibold text-slate-900">
            {title}
          </h2>
          <div className="text-sm text-slate-600">{description}</div>
          <div className="flex justify-end gap-2">
            <Button type="submit" variant="secondary" value="cancel">
              Cancel
            </Button>
            <Button
              variant="danger"
              onClick={() => {
                dialog.current?.close();
                onConfirm();
              }}
            >
              {confirmLabel}
            </Button>
          </div>
        </form>
      </dialog>
    </>
  );
}
