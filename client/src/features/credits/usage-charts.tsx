// The usage charts (recharts, in their own chunk: loaded by the dashboard after first paint).
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { humanize } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/trpc.ts';

type Usage = RouterOutputs['credits']['usage'];

const dayLabel = (day: string) =>
  new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${day}T00:00:00Z`),
  );

const axis = { tick: { fontSize: 11, fill: '#475569' }, stroke: '#94a3b8' };

export function UsageByDay({ usage }: { usage: Usage }) {
  const data = usage.byDay.map((point) => ({
    day: dayLabel(point.day),
    used: point.used,
    refunded: point.refunded,
  }));
  return (
    <div className="h-56" role="img" aria-label="Credits used and refunded per day">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ left: -16, right: 4, top: 4 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
          <XAxis dataKey="day" {...axis} interval="preserveStartEnd" minTickGap={12} />
          <YAxis allowDecimals={false} {...axis} />
          <Tooltip cursor={{ fill: '#f1f5f9' }} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="used" name="Used" fill="#4f46e5" radius={[3, 3, 0, 0]} />
          <Bar dataKey="refunded" name="Refunded" fill="#10b981" radius={[3, 3, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function UsageByOperation({ usage }: { usage: Usage }) {
  const data = usage.byOperation.map((row) => ({ operation: humanize(row.operation), net: row.net }));
  return (
    <div style={{ height: 40 + data.length * 36 }} role="img" aria-label="Credits spent by operation">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ left: 8, right: 16 }}>
          <XAxis type="number" allowDecimals={false} {...axis} />
          <YAxis type="category" dataKey="operation" width={120} {...axis} />
          <Tooltip cursor={{ fill: '#f1f5f9' }} />
          <Bar
            dataKey="net"
            name="Credits (net of refunds)"
            fill="#f59e0b"
            radius={[0, 3, 3, 0]}
            barSize={20}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
