// A form resolver whose validation code (zod and the schema's module, ~40 kB) loads when the
// visitor starts using the form rather than with the page: the sign-in page must be quick to
// open (a browser test holds its first-load JavaScript to a budget). The form calls `preload` on
// its first focus, so the code is there by the time anything is validated; until then a resolve
// simply waits for it. The schema is still the shared one, with the shared messages.
import type { FieldValues, Resolver } from 'react-hook-form';
import type { ZodType } from 'zod';

export function lazyZodResolver<T extends FieldValues>(loadSchema: () => Promise<ZodType>) {
  let loaded: Promise<Resolver<T>> | null = null;
  const load = () => {
    loaded ??= Promise.all([import('./zod-form.ts'), loadSchema()]).then(
      ([{ zodResolver }, schema]) => zodResolver(schema as never) as unknown as Resolver<T>,
    );
    return loaded;
  };
  const resolver: Resolver<T> = async (values, context, options) => (await load())(values, context, options);
  return { resolver, preload: () => void load() };
}
