// Defaults defined once: the seed, the settings service and the client all read them from here.
import type { OperationType } from './schemas/credits.ts';

/** Credits per output, per operation. */
export const DEFAULT_FEATURE_COSTS: Record<OperationType, number> = {
  logo_generation: 1,
  image_generation: 2,
  text_generation: 1,
  code_generation: 5,
};

/** Credits granted on sign-up. */
export const DEFAULT_SIGNUP_BONUS = 100;
