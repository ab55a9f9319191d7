// What the signed-in staff member may do in the admin area (the server enforces the same rules).
import { ADMIN_ROLES, MODERATOR_ROLES } from '../../../../shared/schemas/identity.ts';
import { useMe } from '../identity/use-session.ts';

export function useStaffRole() {
  const me = useMe();
  const role = me.data?.role;
  return {
    isPending: me.isPending,
    canRead: Boolean(role && (MODERATOR_ROLES as readonly string[]).includes(role)),
    canWrite: Boolean(role && (ADMIN_ROLES as readonly string[]).includes(role)),
    me: me.data ?? null,
  };
}
