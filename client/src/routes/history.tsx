import { Link, useLocation, useParams } from 'react-router';
import { GenerationCard, titleOf } from '../features/generations/generation-card.tsx';
import { GenerationGallery } from '../features/generations/generation-gallery.tsx';
import { trpc } from '../lib/trpc.ts';
import { PageHeader } from '../ui/layout.tsx';
import { TextLink } from '../ui/link-button.tsx';
import { QueryState } from '../ui/query-state.tsx';
import { SkeletonTiles } from '../ui/skeleton.tsx';

export function HistoryPage() {
  return (
    <>
      <PageHeader
        title="History"
        description="Everything you generated, newest first. Filters stay in the address, so a view can be shared."
        actions={<TextLink to="/generate">New logo</TextLink>}
      />
      <GenerationGallery />
    </>
  );
}

/** One generation, full size, with its downloads; Back returns to the filtered gallery. */
export function GenerationPage() {
  const { id = '' } = useParams();
  const location = useLocation();
  const back = (location.state as { from?: string } | null)?.from ?? '/history';
  const generation = trpc.generations.get.useQuery({ id });
  return (
    <>
      <p className="mb-4 text-sm">
        <Link to={back} className="font-semibold text-indigo-700 hover:underline">
          ← History
        </Link>
      </p>
      <QueryState query={generation} skeleton={<SkeletonTiles tiles={4} label="Loading the generation" />}>
        {(data) => (
          <>
            <PageHeader title={titleOf(data)} description={data.prompt} />
            <GenerationCard generation={data} />
          </>
        )}
      </QueryState>
    </>
  );
}
