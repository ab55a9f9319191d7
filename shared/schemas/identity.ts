// Identity: enumerations and input schemas shared by the auth procedures and the client's forms.
import { z } from 'zod';
import { OAUTH_PROVIDERS } from '../oauth.ts';

export const USER_ROLES = ['user', 'moderator', 'admin', 'super_admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const ADMIN_ROLES = ['admin', 'super_admin'] as const satisfies readonly UserRole[];
/** Roles that may read the admin area. */
export const MODERATOR_ROLES = ['moderator', 'admin', 'super_admin'] as const satisfies readonly UserRole[];

export const USER_STATUSES = ['active', 'banned', 'deactivated'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const PASSWORD_MIN_LENGTH = 10;

export const emailSchema = z
  .email({ error: 'Enter a valid email address' })
  .max(254)
  .transform((email) => email.trim().toLowerCase());

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `Use at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(256, { error: 'Use at most 256 characters' });

export const signUpInput = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().min(1, { error: 'Tell us your name' }).max(120),
});
export type SignUpInput = z.input<typeof signUpInput>;

export const signInInput = z.object({
  email: emailSchema,
  // No length rule on sign-in: a wrong password must look the same whatever its length.
  password: z.string().min(1, { error: 'Enter your password' }).max(256),
});
export type SignInInput = z.input<typeof signInInput>;

export const revokeSessionInput = z.object({
  /** The session's public handle: the SHA-256 hash of its id, as listed by auth.sessions.list. */
  id: z.string().regex(/^[0-9a-f]{64}$/, { error: 'Not a session handle' }),
});

export const AUTH_TOKEN_PURPOSES = ['email_verification', 'password_reset', 'account_activation'] as const;
export type AuthTokenPurpose = (typeof AUTH_TOKEN_PURPOSES)[number];

/** A single-use token from an email link. */
export const tokenInput = z.object({
  token: z.string().trim().min(20, { error: 'This link is not valid' }).max(200),
});

export const requestPasswordResetInput = z.object({ email: emailSchema });
export const resetPasswordInput = tokenInput.extend({ password: passwordSchema });
export const changePasswordInput = z.object({
  currentPassword: z.string().min(1, { error: 'Enter your current password' }).max(256),
  newPassword: passwordSchema,
});

export const accountUpdateInput = z.object({
  name: z.string().trim().min(1, { error: 'Tell us your name' }).max(120).optional(),
  firstName: z.string().trim().max(120).nullish(),
  lastName: z.string().trim().max(120).nullish(),
  avatarUrl: z
    .url({ protocol: /^https$/, error: 'Use an https:// image URL' })
    .max(2000)
    .nullish(),
});
export const deactivateInput = z.object({
  password: z.string().min(1, { error: 'Enter your password' }).max(256),
});

/**
 * What an API key may do. `read`: queries and subscriptions; `write`: those and mutations;
 * `generations:write`: exactly generations.create; `admin`: admin.* and reads (admins only).
 */
export const API_KEY_SCOPES = ['read', 'write', 'generations:write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1, { error: 'Name the key' }).max(80),
  scopes: z
    .array(z.enum(API_KEY_SCOPES))
    .min(1, { error: 'Choose at least one scope' })
    .max(API_KEY_SCOPES.length),
  expiresAt: z.date().min(new Date(0)).nullish(),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;
export const apiKeyIdInput = z.object({ id: z.uuid() });

// The providers and failure messages live in ../oauth.ts (zod-free, for the sign-in page).
export {
  OAUTH_FAILURES,
  OAUTH_PROVIDER_LABELS,
  OAUTH_PROVIDERS,
  type OAuthFailure,
  type OAuthProvider,
  oauthFailureMessage,
} from '../oauth.ts';

export const oauthUnlinkInput = z.object({ provider: z.enum(OAUTH_PROVIDERS) });
