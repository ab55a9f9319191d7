// Password hashing: argon2id at OWASP's parameters (19 MiB, 2 iterations, parallelism 1). At most
// MAX_CONCURRENT_HASHES run at once so a login storm queues here instead of starving the event
// loop's two cores; the rest of the API stays responsive.
import { hash, verify } from '@node-rs/argon2';

const ARGON2_OPTIONS = {
  algorithm: 2 /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;
const MAX_CONCURRENT_HASHES = 2;

let running = 0;
const waiting: Array<() => void> = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running < MAX_CONCURRENT_HASHES) running++;
  else await new Promise<void>((resume) => waiting.push(resume)); // the finishing hash hands us its slot
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return withHashSlot(() => hash(password, ARGON2_OPTIONS));
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return withHashSlot(() => verify(passwordHash, password).catch(() => false));
}

let dummyHash: Promise<string> | undefined;
/** Spends the same time as a real verification: used when the account does not exist. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('forgeline-timing-equaliser');
  await verifyPassword(await dummyHash, password);
  return false;
}
