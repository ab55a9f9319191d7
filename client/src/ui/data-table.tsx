// A table that works on a phone: columns marked `wide` hide below the small breakpoint (their
// content can repeat under the first cell via `secondary`), and the amount columns always stay.
import type { ReactNode } from 'react';
import { formatDateTime } from '../lib/format.ts';

export type Column<Row> = {
  key: string;
  header: string;
  cell: (row: Row) => ReactNode;
  align?: 'left' | 'right';
  /** Hidden on phones; the first column's `secondary` line says it there instead. */
  wide?: boolean;
  className?: string;
};

/** The row's date and time, a `wide` column (on a phone the `secondary` line says it). */
export function whenColumn<Row extends { createdAt: Date }>(): Column<Row> {
  return {
    key: 'when',
    header: 'When',
    wide: true,
    className: 'whitespace-nowrap text-slate-600',
    cell: (row) => formatDateTime(row.createdAt),
  };
}

export function DataTable<Row>({
  rows,
  columns,
  rowKey,
  secondary,
  label,
  testId,
  flush = true,
}: {
  rows: readonly Row[];
  columns: Column<Row>[];
  rowKey: (row: Row) => string;
  /** A second line under the first cell, shown on phones only. */
  secondary?: (row: Row) => ReactNode;
  label?: string;
  testId?: string;
  /** Bleed to the edges of the card the table sits in. */
  flush?: boolean;
}) {
  const hide = (column: Column<Row>) => (column.wide ? 'hidden sm:table-cell' : '');
  const align = (column: Column<Row>) => (column.align === 'right' ? 'text-right' : 'text-left');
  return (
    <div className={flush ? '-mx-5' : ''}>
      <table className="w-full text-sm" aria-label={label} data-testid={testId}>
        <thead className="text-xs uppercase tracking-wide text-slate-600">
          <tr>
            {columns.map((column) => (
              <th
                key={column.key}
                scope="col"
                className={`px-5 py-2 font-medium ${align(column)} ${hide(column)}`}
              >
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column, index) => (
                <td
                  key={column.key}
                  className={`px-5 py-2.5 align-top ${align(column)} ${hide(column)} ${column.className ?? ''}`}
                >
                  {column.cell(row)}
                  {index === 0 && secondary && (
                    <div className="mt-0.5 text-xs text-slate-600 sm:hidden">{secondary(row)}</div>
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
