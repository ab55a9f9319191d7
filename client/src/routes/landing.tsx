// The signed-out front page: what Forgeline makes, what it costs, and the way in.
import { formatCredits, humanize } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { PageTitle } from '../ui/layout.tsx';
import { LinkButton } from '../ui/link-button.tsx';

const FEATURES = [
  {
    title: 'Logos in seconds',
    body: 'Name your app, say what it does, pick two colours: a set of distinct logos — layouts, typefaces and icons — ready as SVG or PNG.',
  },
  {
    title: 'Pay for what you make',
    body: 'One balance of credits for logos, images, text and code. A failed or canceled run is refunded, automatically and exactly once.',
  },
  {
    title: 'Live, not refresh',
    body: 'Results arrive the moment they are ready. Your history is a gallery you can search, filter by date and share.',
  },
  {
    title: 'Built for teams',
    body: 'Organizations with roles and invitations, projects built by agents and deployed with a click, API keys for your scripts.',
  },
] as const;

function Costs() {
  const costs = trpc.credits.costs.useQuery();
  if (!costs.data) return null;
  return (
    <ul className="mt-6 flex flex-wrap justify-center gap-2 text-sm" aria-label="What things cost">
      {Object.entries(costs.data).map(([operation, cost]) => (
        <li key={operation} className="rounded-full bg-white px-3 py-1 text-slate-700 ring-1 ring-slate-200">
          {humanize(operation.replace(/_generation$/, ''))}: <strong>{formatCredits(cost)}</strong>
        </li>
      ))}
    </ul>
  );
}

/** A few logo-like marks drawn in CSS, as a hint of what comes out. */
function Showcase() {
  const marks = [
    ['from-sky-500 to-rose-600', 'rounded-full', 'OB'],
    ['from-indigo-600 to-amber-500', 'rounded-3xl', 'Px'],
    ['from-emerald-500 to-sky-600', 'rounded-2xl rotate-45', ''],
    ['from-fuchsia-600 to-orange-400', 'rounded-full', 'LF'],
  ] as const;
  return (
    <div aria-hidden="true" className="mx-auto mt-12 grid max-w-xl grid-cols-4 gap-4">
      {marks.map(([colours, shape, letters]) => (
        <div
          key={colours}
          className="flex aspect-square items-center justify-center rounded-2xl bg-white shadow-sm ring-1 ring-slate-200"
        >
          <div
            className={`flex size-3/5 items-center justify-center bg-gradient-to-br text-xl font-extrabold text-white ${colours} ${shape}`}
          >
            <span className={shape.includes('rotate') ? '-rotate-45' : ''}>{letters}</span>
          </div>
        </div>
      ))}
    </div>
  );
}

export function LandingPage() {
  return (
    <div className="-mt-8">
      <PageTitle>Logos and AI generation for credits</PageTitle>
      <section className="py-16 text-center sm:py-24">
        <p className="text-sm font-semibold uppercase tracking-wider text-indigo-700">Forgeline</p>
        <h1 className="mx-auto mt-3 max-w-3xl text-4xl font-extrabold tracking-tight text-slate-900 sm:text-5xl">
          Make the logo, the copy and the code. Pay only for what you make.
        </h1>
        <p className="mx-auto mt-5 max-w-2xl text-lg text-slate-600">
          One balance of credits for logos, images, text and code generation — with live results, a searchable
          history, and refunds when a run fails.
        </p>
        <div className="mt-8 flex flex-wrap justify-center gap-3">
          <LinkButton to="/sign-up" className="px-5 py-2.5 text-base">
            Start free
          </LinkButton>
          <LinkButton to="/pricing" variant="secondary" className="px-5 py-2.5 text-base">
            See pricing
          </LinkButton>
        </div>
        <Costs />
        <Showcase />
      </section>
      <section aria-labelledby="features-title" className="border-t border-slate-200 py-16">
        <h2 id="features-title" className="text-center text-2xl font-bold tracking-tight text-slate-900">
          Everything a generation product needs
        </h2>
        <ul className="mt-10 grid gap-6 sm:grid-cols-2">
          {FEATURES.map((feature) => (
            <li key={feature.title} className="rounded-2xl bg-white p-6 shadow-sm ring-1 ring-slate-200">
              <h3 className="font-semibold text-slate-900">{feature.title}</h3>
              <p className="mt-2 text-sm text-slate-600">{feature.body}</p>
            </li>
          ))}
        </ul>
      </section>
      <section className="mb-8 rounded-3xl bg-indigo-600 px-6 py-12 text-center text-white">
        <h2 className="text-2xl font-bold">Your first logos are on us</h2>
        <p className="mt-2 text-indigo-100">Every new account starts with free credits. No card needed.</p>
        <LinkButton to="/sign-up" variant="secondary" className="mt-6 px-5 py-2.5 text-base">
          Create your account
        </LinkButton>
      </section>
    </div>
  );
}
