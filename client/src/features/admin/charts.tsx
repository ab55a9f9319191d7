// The admin dashboard's charts (recharts; loaded with the admin routes only).
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { RouterOutputs } from '../../lib/trpc.ts';

type Series = RouterOutputs['admin']['stats']['timeseries'];
const day = (date: Date) =>
  new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }).format(date);

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <figcaption className="mb-2 text-sm font-semibold text-slate-800">{title}</figcaption>
      <div className="h-56">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function AdminCharts({ series }: { series: Series }) {
  const data = series.map((point) => ({
    day: day(point.day),
    signups: point.signups,
    granted: point.credits.granted + point.credits.purchased,
    used: point.credits.used,
    succeeded: point.generations.succeeded,
    failed: point.generations.failed,
    canceled: point.generations.canceled,
    revenue: point.revenueCents / 100,
  }));
  const axis = { tick: { fontSize: 11 }, stroke: '#94a3b8' };
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Chart title="Sign-ups per day">
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" {...axis} />
          <YAxis allowDecimals={false} {...axis} />
          <Tooltip />
          <Bar dataKey="signups" fill="#4f46e5" name="Sign-ups" />
        </BarChart>
      </Chart>
      <Chart title="Credits granted vs used">
        <AreaChart data={data}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" {...axis} />
          <YAxis allowDecimals={false} {...axis} />
          <Tooltip />
          <Legend />
          <Area dataKey="granted" name="Granted + purchased" stroke="#10b981" fill="#10b98133" />
          <Area dataKey="used" name="Used" stroke="#f59e0b" fill="#f59e0b33" />
        </AreaChart>
      </Chart>
      <Chart title="Generations by outcome">
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" {...axis} />
          <YAxis allowDecimals={false} {...axis} />
          <Tooltip />
          <Legend />
          <Bar dataKey="succeeded" stackId="g" fill="#10b981" name="Succeeded" />
          <Bar dataKey="failed" stackId="g" fill="#ef4444" name="Failed" />
          <Bar dataKey="canceled" stackId="g" fill="#94a3b8" name="Canceled" />
        </BarChart>
      </Chart>
      <Chart title="Revenue per day">
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" {...axis} />
          <YAxis {...axis} />
          <Tooltip />
          <Bar dataKey="revenue" fill="#0ea5e9" name="Revenue" />
        </BarChart>
      </Chart>
    </div>
  );
}
