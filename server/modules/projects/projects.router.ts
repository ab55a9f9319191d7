// projects.*: the app builder. Access rules (own project, or the organization's) live in the
// service next to the status machine they go with.
import {
  createProjectInput,
  generateProjectInput,
  listProjectsInput,
  projectIdInput,
  updateProjectInput,
} from '../../../shared/schemas/projects.ts';
import { router, userProcedure } from '../../trpc/trpc.ts';
import * as projects from './projects.service.ts';

export const projectsRouter = router({
  list: userProcedure
    .input(listProjectsInput)
    .query(({ ctx, input }) => projects.listProjects(ctx.em, ctx.user.id, input)),
  get: userProcedure
    .input(projectIdInput)
    .query(({ ctx, input }) => projects.getProject(ctx.em, ctx.user.id, input.projectId)),
  create: userProcedure
    .input(createProjectInput)
    .mutation(({ ctx, input }) => projects.createProject(ctx.em, ctx.user.id, input)),
  update: userProcedure
    .input(updateProjectInput)
    .mutation(({ ctx, input }) => projects.updateProject(ctx.em, ctx.user.id, input)),
  remove: userProcedure
    .input(projectIdInput)
    .mutation(({ ctx, input }) => projects.removeProject(ctx.em, ctx.user.id, input.projectId)),
  // Needs the `write` scope: it moves the project too. `generations:write` opens exactly
  // generations.create (README, "API keys").
  generate: userProcedure
    .input(generateProjectInput)
    .mutation(({ ctx, input }) =>
      projects.generateProject(
        ctx.em,
        { jobs: ctx.runtime.jobs, providerName: ctx.runtime.providerName },
        ctx.user.id,
        input,
      ),
    ),
  deploy: userProcedure
    .input(projectIdInput)
    .mutation(({ ctx, input }) =>
      projects.deployProject(ctx.em, { jobs: ctx.runtime.jobs }, ctx.user.id, input.projectId),
    ),
});
