// A monthly credit statement as CSV (RFC 4180: comma-separated, CRLF, quoted where needed): one
// header row, the opening balance, one row per line, the closing balance. The client downloads it;
// a spreadsheet's sum of the Credits column from "Opening balance" through the last line equals
// the closing balance.
import { STATEMENT_SECTION_LABELS, type StatementSection } from './schemas/credits.ts';

export type StatementForCsv = {
  month: string;
  from: Date;
  to: Date;
  openingBalance: number;
  closingBalance: number;
  lines: { section: StatementSection; label: string; count: number; amount: number; released?: number }[];
};

export const STATEMENT_CSV_HEADER = ['Row', 'Section', 'Item', 'Transactions', 'Credits'] as const;

/** A field as CSV: quoted when it holds a comma, quote or line break; a leading formula sign is defused. */
function field(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function statementToCsv(statement: StatementForCsv): string {
  const rows: (string | number)[][] = [
    [...STATEMENT_CSV_HEADER],
    [
      'opening',
      '',
      `Opening balance on ${statement.from.toISOString().slice(0, 10)} (UTC)`,
      '',
      statement.openingBalance,
    ],
    // A released hold moved no balance: its credits are in the item's text, its Credits cell is 0.
    ...statement.lines.map((line) => [
      'line',
      STATEMENT_SECTION_LABELS[line.section],
      line.section === 'releases'
        ? `${line.label} (${line.released ?? 0} credits held, given back)`
        : line.label,
      line.count,
      line.amount,
    ]),
    [
      'closing',
      '',
      `Closing balance on ${new Date(statement.to.getTime() - 1).toISOString().slice(0, 10)} (UTC)`,
      '',
      statement.closingBalance,
    ],
  ];
  return `${rows.map((row) => row.map(field).join(',')).join('\r\n')}\r\n`;
}

/** The file name a statement downloads as. */
export const statementFileName = (month: string, who = 'credits') => `${who}-statement-${month}.csv`;
