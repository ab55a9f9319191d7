// Plain objects the projects procedures return.
import type { Generation } from '../generations/generation.entity.ts';
import type { Deployment } from './deployment.entity.ts';
import type { Project } from './project.entity.ts';

export const toProjectDto = (project: Project) => ({
  id: project.id,
  name: project.name,
  description: project.description ?? null,
  template: project.template,
  status: project.status,
  organizationId: project.organization?.id ?? null,
  ownerId: project.user.id,
  config: project.config,
  features: project.features as string[],
  generatedPath: project.generatedPath ?? null,
  repositoryUrl: project.repositoryUrl ?? null,
  deploymentUrl: project.deploymentUrl ?? null,
  deployedAt: project.deployedAt ?? null,
  createdAt: project.createdAt as Date,
  updatedAt: project.updatedAt as Date,
});

export const toProjectGenerationDto = (generation: Generation) => ({
  id: generation.id,
  agentType: generation.agentType ?? null,
  status: generation.status,
  creditsCharged: generation.creditsCharged,
  tokensUsed: generation.tokensUsed ?? null,
  durationMs: generation.durationMs ?? null,
  error: generation.error ?? null,
  createdAt: generation.createdAt as Date,
  completedAt: generation.completedAt ?? null,
});

export const toDeploymentDto = (deployment: Deployment) => ({
  id: deployment.id,
  status: deployment.status,
  url: deployment.url ?? null,
  log: deployment.log ?? null,
  startedAt: deployment.startedAt ?? null,
  finishedAt: deployment.finishedAt ?? null,
  createdAt: deployment.createdAt as Date,
});
