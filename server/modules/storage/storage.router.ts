// storage.*: the caller's files. Uploads arrive over POST /uploads (storage.http.ts).
import { listStorageInput, storageIdInput } from '../../../shared/schemas/storage.ts';
import { router, userProcedure } from '../../trpc/trpc.ts';
import * as storage from './storage.service.ts';

export const storageRouter = router({
  list: userProcedure
    .input(listStorageInput)
    .query(({ ctx, input }) => storage.listFiles(ctx.em, ctx.user.id, input)),
  get: userProcedure
    .input(storageIdInput)
    .query(({ ctx, input }) => storage.getFile(ctx.em, ctx.user.id, input.id)),
  remove: userProcedure
    .input(storageIdInput)
    .mutation(({ ctx, input }) => storage.removeFile(ctx.em, ctx.user.id, input.id)),
  restore: userProcedure
    .input(storageIdInput)
    .mutation(({ ctx, input }) => storage.restoreFile(ctx.em, ctx.user.id, input.id)),
});
