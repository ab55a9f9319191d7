// A link that looks like a button: navigation stays a link (middle-click, "open in new tab").
import { Link, type LinkProps } from 'react-router';
import { type ButtonVariant, buttonClass } from './button.tsx';

export function LinkButton({
  variant = 'primary',
  className = '',
  ...props
}: LinkProps & { variant?: ButtonVariant }) {
  return <Link {...props} className={buttonClass(variant, className)} />;
}

/** An inline text link in the app's style. */
export function TextLink({ className = '', ...props }: LinkProps) {
  return <Link {...props} className={`font-semibold text-indigo-700 hover:underline ${className}`} />;
}
