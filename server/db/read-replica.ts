// The reads that may be served by a read replica (DATABASE_REPLICA_URLS): heavy, cross-user reads
// where being behind the primary by the replica's lag (milliseconds on a healthy stream) is fine —
// the admin dashboard's stats and the admin lists. Raw SQL runs there through `sqlOnReplica(em, …)` (server/db/sql.ts); `em.find` takes this as its options.
// Everything else stays on the primary (`preferReadReplicas: false` in mikro-orm.config.ts), above
// all any read that must see the caller's own writes. Without replicas, 'read' is the primary.
export const ON_REPLICA = { connectionType: 'read' } as const;
