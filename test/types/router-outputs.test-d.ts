// Every output of the router, walked generically — as the role matrix walks every procedure — so a
// new procedure is checked without anyone adding a line here. An output must be plain data:
// no ORM entity (it leaks columns and ties the client to the table), no ORM reference or
// collection, no field named like a secret (password, secret, …hash), no `any`, and every `…At`
// field a Date (superjson carries Dates across the wire). A violation is reported by its path,
// e.g. "auth.me.passwordHash: a secret-named field".
import type {
  Config,
  EagerProps,
  EntityName,
  HiddenProps,
  OptionalProps,
  PrimaryKeyProp,
} from '@mikro-orm/core';
import type {
  AnyProcedure,
  inferProcedureOutput,
  inferRouterOutputs,
  TRPCRouterRecord as RouterRecord,
} from '@trpc/server';
import { describe, expectTypeOf, it } from 'vitest';
import type { User } from '../../server/modules/identity/user.entity.ts';
import type { AppRouter } from '../../server/router.ts';

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** The symbol keys MikroORM puts on entity types (defineEntity / InferEntity). */
type EntityBrand =
  | typeof EntityName
  | typeof PrimaryKeyProp
  | typeof OptionalProps
  | typeof HiddenProps
  | typeof EagerProps
  | typeof Config;
/** MikroORM's Reference, ScalarReference and Collection wrappers. */
type OrmWrapper = { isInitialized(): boolean };
type SecretName = `${string}password${string}` | `${string}secret${string}` | `${string}hash`;

/** What is wrong with one field's name and type (a boolean like `hasPassword` says nothing secret). */
type FieldProblems<K extends string, V, Path extends string> =
  | (Lowercase<K> extends SecretName
      ? [V] extends [boolean | null | undefined]
        ? never
        : `${Path}: a secret-named field`
      : never)
  | (K extends `${string}At`
      ? [NonNullable<V>] extends [Date]
        ? never
        : `${Path}: a timestamp that is not a Date`
      : never);

/** Every problem in a value of type T, as "path: problem" strings (never when it is clean). */
type OutputProblems<T, Path extends string, Depth extends unknown[] = []> =
  IsAny<T> extends true
    ? `${Path}: any`
    : Depth['length'] extends 10
      ? never
      : T extends Primitive | Date
        ? never
        : T extends readonly (infer E)[]
          ? OutputProblems<E, `${Path}[]`, [...Depth, 0]>
          : T extends AsyncIterable<infer E>
            ? OutputProblems<E, `${Path}<event>`, [...Depth, 0]>
            : [Extract<keyof T, EntityBrand>] extends [never]
              ? T extends OrmWrapper
                ? `${Path}: an ORM reference or collection`
                : {
                    [K in keyof T & string]-?:
                      | FieldProblems<K, T[K], `${Path}.${K}`>
                      | OutputProblems<T[K], `${Path}.${K}`, [...Depth, 0]>;
                  }[keyof T & string]
              : `${Path}: an entity`;

/** Every procedure of a router record, with its output's problems. */
type RouterProblems<R extends RouterRecord, Prefix extends string = ''> = {
  [K in keyof R & string]: R[K] extends AnyProcedure
    ? OutputProblems<inferProcedureOutput<R[K]>, `${Prefix}${K}`>
    : R[K] extends RouterRecord
      ? RouterProblems<R[K], `${Prefix}${K}.`>
      : never;
}[keyof R & string];

/** Every procedure path of a router record (to show the walk reaches them all). */
type ProcedurePaths<R extends RouterRecord, Prefix extends string = ''> = {
  [K in keyof R & string]: R[K] extends AnyProcedure
    ? `${Prefix}${K}`
    : R[K] extends RouterRecord
      ? ProcedurePaths<R[K], `${Prefix}${K}.`>
      : never;
}[keyof R & string];

type Record_ = AppRouter['_def']['record'];
type Problems = RouterProblems<Record_>;

/**
 * The reviewed exceptions, each with its reason. A new entry needs the same care: it is a secret
 * crossing the wire on purpose.
 * - `apiKeys.create.secret`: the new key's secret, shown once at creation (only its prefix and
 *   SHA-256 hash are stored; `apiKeys.list` has neither).
 */
type Allowed = 'apiKeys.create.secret: a secret-named field';

describe('router outputs', () => {
  it('are plain data, with no secret field and every timestamp a Date, in every procedure', () => {
    expectTypeOf<Exclude<Problems, Allowed>>().toEqualTypeOf<never>();
    // The same again, so that a failure names each offending path ("… Actual literal string
    // credits.balance.tokenHash a secret-named field").
    const clean: [Exclude<Problems, Allowed>] extends [never] ? true : Exclude<Problems, Allowed> = true;
    expectTypeOf(clean).toEqualTypeOf<true>();
    // Every exception is still real (a stale one would hide nothing, but mislead).
    expectTypeOf<Extract<Problems, Allowed>>().toEqualTypeOf<Allowed>();
  });

  it('provider ids and payment details stay on the server', () => {
    type Outputs = inferRouterOutputs<AppRouter>;
    type Linked = keyof Outputs['account']['oauth']['list'][number];
    expectTypeOf<Extract<Linked, 'accessToken' | 'providerAccountId'>>().toEqualTypeOf<never>();
    type Attempt = keyof Outputs['billing']['autoTopUp']['get']['attempts'][number];
    expectTypeOf<Extract<Attempt, 'paymentIntentId' | 'paymentMethodId'>>().toEqualTypeOf<never>();
    type Setting = keyof NonNullable<Outputs['billing']['autoTopUp']['get']['setting']>;
    expectTypeOf<Extract<Setting, 'paymentMethodId' | 'customerId' | 'checkedSeq'>>().toEqualTypeOf<never>();
    expectTypeOf<Outputs['account']['get']['hasPassword']>().toEqualTypeOf<boolean>();
  });

  it('the walk reaches nested routers and subscriptions', () => {
    type Paths = ProcedurePaths<Record_>;
    expectTypeOf<'credits.balance'>().toExtend<Paths>();
    expectTypeOf<'admin.users.list'>().toExtend<Paths>();
    expectTypeOf<'auth.sessions.list'>().toExtend<Paths>();
    expectTypeOf<'generations.onUpdate'>().toExtend<Paths>();
  });

  it('the checks catch what they are meant to catch', () => {
    expectTypeOf<OutputProblems<User, 'x'>>().toEqualTypeOf<'x: an entity'>();
    expectTypeOf<OutputProblems<{ a: { b: User }[] }, 'x'>>().toEqualTypeOf<'x.a[].b: an entity'>();
    expectTypeOf<
      OutputProblems<{ passwordHash: string | null }, 'x'>
    >().toEqualTypeOf<'x.passwordHash: a secret-named field'>();
    expectTypeOf<OutputProblems<{ tokenHash: string; webhookSecret: string }, 'x'>>().toEqualTypeOf<
      'x.tokenHash: a secret-named field' | 'x.webhookSecret: a secret-named field'
    >();
    expectTypeOf<OutputProblems<{ hasPassword: boolean }, 'x'>>().toEqualTypeOf<never>();
    expectTypeOf<
      OutputProblems<{ createdAt: string }, 'x'>
    >().toEqualTypeOf<'x.createdAt: a timestamp that is not a Date'>();
    expectTypeOf<OutputProblems<{ endedAt: Date | null }, 'x'>>().toEqualTypeOf<never>();
    // biome-ignore lint/suspicious/noExplicitAny: the check for `any` itself.
    expectTypeOf<OutputProblems<{ payload: any }, 'x'>>().toEqualTypeOf<'x.payload: any'>();
    expectTypeOf<
      OutputProblems<AsyncIterable<{ secret: string }>, 'x'>
    >().toEqualTypeOf<'x<event>.secret: a secret-named field'>();
  });

  it('dates cross the wire as Dates (superjson)', () => {
    type Outputs = inferRouterOutputs<AppRouter>;
    expectTypeOf<Outputs['credits']['transactions']['items'][number]['createdAt']>().toEqualTypeOf<Date>();
  });
});
