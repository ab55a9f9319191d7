// A block that scrolls sideways when its content is wider than its card (a wide table on a phone)
// instead of widening the page. While it overflows it is a named, focusable region, so a keyboard
// can scroll it too (axe: scrollable-region-focusable); when everything fits it is no tab stop.
import { type ReactNode, useEffect, useRef, useState } from 'react';

export function ScrollX({
  label,
  className = '',
  children,
}: {
  label: string;
  className?: string;
  children: ReactNode;
}) {
  const box = useRef<HTMLElement>(null);
  const [overflows, setOverflows] = useState(false);
  useEffect(() => {
    const node = box.current;
    if (!node) return;
    const measure = () => setOverflows(node.scrollWidth > node.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    if (node.firstElementChild) observer.observe(node.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <section
      ref={box}
      aria-label={label}
      tabIndex={overflows ? 0 : undefined}
      className={`overflow-x-auto focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-600 ${className}`}
    >
      {children}
    </section>
  );
}
