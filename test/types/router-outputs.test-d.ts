// Router outputs carry no secrets: no password hashes, no session or token hashes.
import type { inferRouterOutputs } from '@trpc/server';
import { describe, expectTypeOf, it } from 'vitest';
import type { AppRouter } from '../../server/router.ts';

type Outputs = inferRouterOutputs<AppRouter>;
type SecretKey = 'passwordHash' | 'password' | 'tokenHash' | 'hash' | 'secret';

describe('router outputs', () => {
  it('auth outputs hold no secret fields', () => {
    expectTypeOf<NonNullable<Outputs['auth']['me']>>().not.toHaveProperty('passwordHash');
    expectTypeOf<Outputs['auth']['signIn']>().not.toHaveProperty('passwordHash');
    expectTypeOf<Outputs['auth']['signUp']>().not.toHaveProperty('passwordHash');
    expectTypeOf<
      Extract<keyof Outputs['auth']['sessions']['list'][number], SecretKey>
    >().toEqualTypeOf<never>();
  });

  it('linked provider accounts and the profile hold no secret or token fields', () => {
    type Linked = keyof Outputs['account']['oauth']['list'][number];
    expectTypeOf<Extract<Linked, SecretKey | 'accessToken' | 'providerAccountId'>>().toEqualTypeOf<never>();
    expectTypeOf<Extract<keyof Outputs['account']['get'], SecretKey>>().toEqualTypeOf<never>();
    expectTypeOf<Outputs['account']['get']['hasPassword']>().toEqualTypeOf<boolean>();
  });

  it('credits outputs hold no secret fields', () => {
    expectTypeOf<Extract<keyof Outputs['credits']['balance'], SecretKey>>().toEqualTypeOf<never>();
    expectTypeOf<
      Extract<keyof Outputs['credits']['transactions']['items'][number], SecretKey>
    >().toEqualTypeOf<never>();
  });

  it('statements and auto top-up hold no secret or provider fields', () => {
    expectTypeOf<Extract<keyof Outputs['credits']['statement'], SecretKey>>().toEqualTypeOf<never>();
    type Attempt = keyof Outputs['billing']['autoTopUp']['get']['attempts'][number];
    expectTypeOf<
      Extract<Attempt, SecretKey | 'paymentIntentId' | 'paymentMethodId'>
    >().toEqualTypeOf<never>();
    type Setting = keyof NonNullable<Outputs['billing']['autoTopUp']['get']['setting']>;
    expectTypeOf<Extract<Setting, 'paymentMethodId' | 'customerId' | 'checkedSeq'>>().toEqualTypeOf<never>();
  });

  it('dates cross the wire as Dates (superjson)', () => {
    expectTypeOf<Outputs['credits']['transactions']['items'][number]['createdAt']>().toEqualTypeOf<Date>();
  });
});
