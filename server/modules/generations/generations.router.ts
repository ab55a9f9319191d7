// generations.*: create (charge + enqueue), read, list, cancel, remove, and live updates (SSE).
import {
  createGenerationInput,
  generationIdInput,
  listGenerationsInput,
} from '../../../shared/schemas/generations.ts';
import { asTRPCError } from '../../trpc/errors.ts';
import { router, userProcedure } from '../../trpc/trpc.ts';
import { hashSessionId } from '../identity/lucia.ts';
import * as generations from './generations.service.ts';
import { cancelRemotePrediction } from './providers/cancel.ts';

export const generationsRouter = router({
  create: userProcedure
    .meta({ scope: 'generations:write' })
    .input(createGenerationInput)
    .mutation(({ ctx, input }) =>
      generations.createGeneration(
        ctx.em,
        { jobs: ctx.runtime.jobs, providerName: ctx.runtime.providerName },
        ctx.user.id,
        input,
      ),
    ),
  get: userProcedure
    .input(generationIdInput)
    .query(({ ctx, input }) => generations.getGeneration(ctx.em, ctx.user.id, input.id)),
  list: userProcedure
    .input(listGenerationsInput)
    .query(({ ctx, input }) => generations.listGenerations(ctx.em, ctx.user.id, input)),
  cancel: userProcedure.input(generationIdInput).mutation(async ({ ctx, input }) => {
    const { generation, predictionToCancel } = await generations.cancelGeneration(
      ctx.em,
      ctx.user.id,
      input.id,
    );
    cancelRemotePrediction(ctx.runtime, ctx.logger, predictionToCancel);
    return generation;
  }),
  remove: userProcedure.input(generationIdInput).mutation(async ({ ctx, input }) => {
    const { predictionToCancel } = await generations.removeGeneration(ctx.em, ctx.user.id, input.id);
    cancelRemotePrediction(ctx.runtime, ctx.logger, predictionToCancel);
    return { ok: true as const };
  }),
  // Ends with UNAUTHORIZED when the session or API key it was opened with ends (generation-events.ts).
  onUpdate: userProcedure.subscription(async function* ({ ctx, signal }) {
    const access = {
      userId: ctx.user.id,
      sessionHandle: ctx.sessionId ? hashSessionId(ctx.sessionId) : null,
      apiKeyId: ctx.apiKeyId,
    };
    try {
      for await (const event of ctx.runtime.events.listen(access, signal)) {
        const generation = await generations
          .getGeneration(ctx.orm.em.fork(), ctx.user.id, event.id)
          .catch(() => null);
        if (generation) yield generation;
      }
    } catch (error) {
      throw asTRPCError(error);
    }
  }),
});
