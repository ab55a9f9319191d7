// Identity: enumerations and input schemas shared by the auth procedures and the client's forms.
import { z } from 'zod';

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
