// A month's credit statement (UTC): opening balance, what came in and went out by section, closing
// balance; downloadable as CSV. The user's own (dashboard), or any user's for the admin area.
import { useState } from 'react';
import { STATEMENT_SECTION_LABELS } from '../../../../shared/schemas/credits.ts';
import { statementFileName, statementToCsv } from '../../../../shared/statement-csv.ts';
import { formatCredits, formatSigned } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Card, ErrorState } from '../../ui/layout.tsx';
import { ScrollX } from '../../ui/scroll-x.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

type Statement = RouterOutputs['credits']['statement'];

const thisMonth = () => new Date().toISOString().slice(0, 7);
const monthName = (from: Date) =>
  new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(from);

function downloadCsv(statement: Statement, fileName: string) {
  const url = URL.createObjectURL(new Blob([statementToCsv(statement)], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function StatementPanel({
  month,
  onMonth,
  query,
  fileName,
}: {
  month: string;
  onMonth: (month: string) => void;
  query: { data?: Statement; isPending: boolean; error: { message: string } | null; refetch: () => unknown };
  fileName: string;
}) {
  const statement = query.data;
  return (
    <Card
      title="Monthly statement"
      actions={
        <div className="flex items-center gap-2">
          <label className="sr-only" htmlFor="statement-month">
            Month
          </label>
          <input
            id="statement-month"
            type="month"
            className={`${inputClass} w-auto`}
            value={month}
            max={thisMonth()}
            min="2000-01"
            onChange={(event) => event.target.value && onMonth(event.target.value)}
          />
          <Button
            variant="secondary"
            className="whitespace-nowrap"
            disabled={!statement}
            onClick={() => statement && downloadCsv(statement, fileName)}
          >
            Download CSV
          </Button>
        </div>
      }
    >
      {query.isPending ? (
        <SkeletonRows rows={4} label="Loading the statement" />
      ) : query.error || !statement ? (
        <ErrorState error={query.error} retry={() => query.refetch()} />
      ) : (
        <ScrollX label="Statement" className="-mx-5">
          <table className="min-w-full text-sm" data-testid="statement">
            <caption className="px-5 pb-2 text-left text-xs text-slate-600">
              {monthName(statement.from)}, UTC · {statement.transactionCount} transaction
              {statement.transactionCount === 1 ? '' : 's'}
            </caption>
            <tbody className="divide-y divide-slate-100">
              <tr className="font-medium text-slate-800">
                <td className="px-5 py-2">Opening balance</td>
                <td className="hidden sm:table-cell" />
                <td className="px-5 py-2 text-right whitespace-nowrap tabular-nums">
                  {formatCredits(statement.openingBalance)}
                </td>
              </tr>
              {statement.lines.length === 0 ? (
                <tr>
                  <td colSpan={3} className="px-5 py-3 text-slate-600">
                    No credits came in or went out this month.
                  </td>
                </tr>
              ) : (
                statement.lines.map((line, index) => (
                  <tr key={`${line.section}:${line.key}`}>
                    <td className="px-5 py-2 text-slate-700">
                      {line.label !== STATEMENT_SECTION_LABELS[line.section] && (
                        <span className="block text-xs uppercase tracking-wide text-slate-600 sm:mr-2 sm:inline">
                          {statement.lines[index - 1]?.section === line.section
                            ? ''
                            : STATEMENT_SECTION_LABELS[line.section]}
                        </span>
                      )}
                      {line.label}
                      {line.section === 'releases' && (
                        <span className="block text-xs text-slate-600 sm:ml-2 sm:inline">
                          {line.released} credits held, given back (no balance moved)
                        </span>
                      )}
                    </td>
                    <td className="hidden px-5 py-2 text-right text-xs text-slate-600 sm:table-cell">
                      × {line.count}
                    </td>
                    <td
                      className={`px-5 py-2 text-right font-semibold whitespace-nowrap tabular-nums ${line.amount < 0 ? 'text-slate-700' : 'text-emerald-700'}`}
                    >
                      {line.section === 'releases' ? '—' : formatSigned(line.amount)}
                    </td>
                  </tr>
                ))
              )}
              <tr className="font-semibold text-slate-900">
                <td className="px-5 py-2">Closing balance</td>
                <td className="hidden sm:table-cell" />
                <td
                  className="px-5 py-2 text-right whitespace-nowrap tabular-nums"
                  data-testid="statement-closing"
                >
                  {formatCredits(statement.closingBalance)}
                </td>
              </tr>
            </tbody>
          </table>
        </ScrollX>
      )}
    </Card>
  );
}

/** The signed-in user's statement (dashboard). */
export function StatementCard() {
  const [month, setMonth] = useState(thisMonth);
  const query = trpc.credits.statement.useQuery({ month });
  return (
    <StatementPanel month={month} onMonth={setMonth} query={query} fileName={statementFileName(month)} />
  );
}

/** Any user's statement, for staff (admin user page). */
export function AdminStatementCard({ userId, email }: { userId: string; email: string }) {
  const [month, setMonth] = useState(thisMonth);
  const query = trpc.admin.credits.statement.useQuery({ userId, month });
  const who = email.replace(/[^a-z0-9.@_-]+/gi, '-');
  return (
    <StatementPanel month={month} onMonth={setMonth} query={query} fileName={statementFileName(month, who)} />
  );
}
