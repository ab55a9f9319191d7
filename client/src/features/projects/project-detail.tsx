// One project's building blocks: generating by agent, deploying, its deployments and the
// generations of each agent.
import { useState } from 'react';
import { AGENT_TYPES, type AgentType } from '../../../../shared/schemas/generations.ts';
import { formatDateTime, formatDuration, humanize } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { type Column, DataTable } from '../../ui/data-table.tsx';
import { Field, inputClass } from '../../ui/field.tsx';
import { Card, Empty } from '../../ui/layout.tsx';
import { ProjectStatus } from './project-status.tsx';

type Project = RouterOutputs['projects']['get'];
type ProjectGeneration = Project['generations'][number];

export function BuildCard({
  project,
  generating,
  deploying,
  onGenerate,
  onDeploy,
}: {
  project: Project;
  generating: boolean;
  deploying: boolean;
  onGenerate: (agent: AgentType) => void;
  onDeploy: () => void;
}) {
  const [agent, setAgent] = useState<AgentType>('orchestrator');
  return (
    <Card title="Build">
      <p className="mb-3 text-sm text-slate-600">Features: {project.features.join(', ') || 'none yet'}</p>
      <div className="flex flex-wrap items-end gap-2">
        <Field label="Agent">
          {(control) => (
            <select
              {...control}
              className={`${inputClass} w-auto`}
              value={agent}
              onChange={(e) => setAgent(e.target.value as AgentType)}
            >
              {AGENT_TYPES.map((a) => (
                <option key={a} value={a}>
                  {humanize(a)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Button
          busy={generating || project.status === 'generating'}
          disabled={project.status === 'deploying'}
          onClick={() => onGenerate(agent)}
        >
          Generate
        </Button>
        <Button
          variant="secondary"
          busy={deploying || project.status === 'deploying'}
          disabled={project.status !== 'ready' && project.status !== 'deployed'}
          onClick={onDeploy}
        >
          Deploy
        </Button>
      </div>
    </Card>
  );
}

export function DeploymentsCard({ deployments }: { deployments: Project['deployments'] }) {
  return (
    <Card title="Deployments">
      {deployments.length === 0 ? (
        <Empty title="Not deployed yet" />
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Deployments">
          {deployments.map((d) => (
            <li key={d.id} className="flex items-center justify-between gap-3 py-2 text-sm">
              <span>
                {formatDateTime(d.createdAt)} <ProjectStatus status={d.status} />
              </span>
              {d.url && (
                <a
                  href={d.url}
                  target="_blank"
                  rel="noreferrer"
                  className="font-semibold text-indigo-700 hover:underline"
                >
                  Open
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

const GENERATION_COLUMNS: Column<ProjectGeneration>[] = [
  { key: 'agent', header: 'Agent', cell: (g) => humanize(g.agentType ?? 'orchestrator') },
  { key: 'status', header: 'Status', cell: (g) => <ProjectStatus status={g.status} /> },
  { key: 'tokens', header: 'Tokens', wide: true, align: 'right', cell: (g) => g.tokensUsed ?? '—' },
  {
    key: 'duration',
    header: 'Duration',
    wide: true,
    align: 'right',
    cell: (g) => (g.durationMs != null ? formatDuration(g.durationMs) : '—'),
  },
  { key: 'started', header: 'Started', wide: true, cell: (g) => formatDateTime(g.createdAt) },
  {
    key: 'credits',
    header: 'Credits',
    align: 'right',
    className: 'tabular-nums',
    cell: (g) => g.creditsCharged,
  },
];

export function ProjectGenerationsCard({ generations }: { generations: ProjectGeneration[] }) {
  return (
    <Card title="Generations by agent" className="lg:col-span-2">
      {generations.length === 0 ? (
        <Empty title="Nothing generated yet">Pick an agent and generate.</Empty>
      ) : (
        <DataTable
          rows={generations}
          columns={GENERATION_COLUMNS}
          rowKey={(g) => g.id}
          secondary={(g) => formatDateTime(g.createdAt)}
          label="Generations by agent"
        />
      )}
    </Card>
  );
}
