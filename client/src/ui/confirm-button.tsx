// Actions that need a second thought, behind a native <dialog> (focus-trapped, Esc closes). Each
// dialog names itself with its own ids (useId): twenty on one page never share a label.
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { Button, type ButtonVariant } from './button.tsx';

type DialogProps = {
  open: boolean;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  tone?: 'danger' | 'primary';
};

/** A confirmation dialog opened by its owner (e.g. after choosing a new role in a select). */
export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel,
  onConfirm,
  onCancel,
  tone = 'danger',
}: DialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const node = dialog.current;
    if (!node) return;
    if (open && !node.open) node.showModal();
    if (!open && node.open) node.close();
  }, [open]);
  return (
    <dialog
      ref={dialog}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-description`}
      onClose={() => {
        if (open) onCancel();
      }}
      className="m-auto w-[calc(100%-2rem)] max-w-sm rounded-2xl p-0 shadow-xl backdrop:bg-slate-900/40"
    >
      <form method="dialog" className="space-y-4 p-6">
        <h2 id={`${id}-title`} className="text-lg font-semibold text-slate-900">
          {title}
        </h2>
        <div id={`${id}-description`} className="text-sm text-slate-600">
          {description}
        </div>
        <div className="flex justify-end gap-2">
          <Button type="submit" variant="secondary" value="cancel">
            Cancel
          </Button>
          <Button variant={tone} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}

type ConfirmButtonProps = {
  label: ReactNode;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  variant?: ButtonVariant;
  className?: string;
  /** An accessible name for the button when `label` alone is ambiguous ("Delete" in a list). */
  'aria-label'?: string;
};

/** A button that asks first: the same dialog, opened by the button. */
export function ConfirmButton({
  label,
  title,
  description,
  confirmLabel,
  onConfirm,
  busy,
  variant = 'ghost',
  className,
  'aria-label': ariaLabel,
}: ConfirmButtonProps) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        variant={variant}
        busy={busy}
        className={className}
        aria-label={ariaLabel}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        {label}
      </Button>
      <ConfirmDialog
        open={open}
        title={title}
        description={description}
        confirmLabel={confirmLabel}
        onCancel={() => setOpen(false)}
        onConfirm={() => {
          setOpen(false);
          onConfirm();
        }}
      />
    </>
  );
}
