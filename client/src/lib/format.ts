// Display formatting shared by the pages: credits, dates, durations, sizes.
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatCredits = (amount: number) =>
  `${integer.format(amount)} ${Math.abs(amount) === 1 ? 'credit' : 'credits'}`;

export const formatNumber = (amount: number) => integer.format(amount);

/** A count and its noun, plural but for one: "1 generation", "1,204 generations". */
export const formatCount = (count: number, noun: string) =>
  `${integer.format(count)} ${noun}${count === 1 ? '' : 's'}`;

export const formatSigned = (amount: number) =>
  amount > 0 ? `+${integer.format(amount)}` : integer.format(amount);

export const formatDateTime = (date: Date) => dateTime.format(date);

export function formatRelative(date: Date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return formatDateTime(date);
}

export const formatDuration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

export function formatBytes(bytes: number) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export const humanize = (value: string) =>
  (value.charAt(0).toUpperCase() + value.slice(1)).replaceAll('_', ' ');

/** Integer cents in a currency (lowercase ISO code from the server): "$9.00", "€99". */
export function formatMoney(cents: number, currency: string) {
  return new Intl.NumberFormat(undefined, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: cents % 100 === 0 ? 0 : 2,
  }).format(cents / 100);
}

/** Dollars (or any currency's main unit) typed by a person → integer cents; null when not an amount. */
export function parseMoney(value: string): number | null {
  const cleaned = value
    .trim()
    .replace(/^[$€£]/, '')
    .replaceAll(',', '');
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  return Math.round(Number(cleaned) * 100);
}

/** Integer cents → the amount as a person types it ("9", "9.50"). */
export const centsToAmount = (cents: number) =>
  cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2);

export const formatDate = (date: Date) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(date);
