// A deployment of a project: its job builds a static bundle from the generated files into storage.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { DEPLOYMENT_STATUSES } from '../../../shared/schemas/projects.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { Project } from './project.entity.ts';

export const Deployment = defineEntity({
  name: 'Deployment',
  tableName: 'deployments',
  properties: {
    id: idProperty(),
    project: () => p.manyToOne(Project).deleteRule('cascade'),
    status: p.enum(DEPLOYMENT_STATUSES).default('queued').index('deployments_status_idx'),
    url: p.text().nullable(),
    log: p.text().nullable(),
    startedAt: timestampColumn().nullable(),
    finishedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'deployments_project_id_created_at_idx',
      expression:
        'create index "deployments_project_id_created_at_idx" on "deployments" ("project_id", "created_at" desc)',
    },
  ],
});
export type Deployment = InferEntity<typeof Deployment>;
