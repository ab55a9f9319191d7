import { humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, Empty } from '../../ui/layout.tsx';
import { TextLink } from '../../ui/link-button.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';
import { ProjectStatus } from './project-status.tsx';

export function ProjectList() {
  const projects = trpc.projects.list.useInfiniteQuery(
    { limit: 20 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  return (
    <Card title="Your projects">
      <QueryState
        query={projects}
        skeleton={<SkeletonRows rows={4} label="Loading projects" />}
        isEmpty={(data) => data.pages[0]?.items.length === 0}
        empty={<Empty title="No projects yet">Start one from a template.</Empty>}
      >
        {(data) => (
          <ul className="divide-y divide-slate-100" aria-label="Projects">
            {data.pages
              .flatMap((page) => page.items)
              .map((project) => (
                <li key={project.id} className="flex items-center justify-between gap-3 py-3 text-sm">
                  <div className="min-w-0">
                    <TextLink to={`/projects/${project.id}`} className="font-medium">
                      {project.name}
                    </TextLink>
                    <p className="text-xs text-slate-600">
                      {humanize(project.template)} · {project.features.length} features
                    </p>
                  </div>
                  <ProjectStatus status={project.status} />
                </li>
              ))}
          </ul>
        )}
      </QueryState>
      <LoadMore query={projects} />
    </Card>
  );
}
