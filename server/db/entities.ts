// Every entity the ORM knows, module by module. New module entities are added here.
import { CreditBalance } from '../modules/credits/credit-balance.entity.ts';
import { CreditTransaction } from '../modules/credits/credit-transaction.entity.ts';
import { Generation } from '../modules/generations/generation.entity.ts';
import { Session } from '../modules/identity/session.entity.ts';
import { User } from '../modules/identity/user.entity.ts';
import { AdminSettings } from '../modules/settings/admin-settings.entity.ts';
import { StorageObject } from '../modules/storage/storage-object.entity.ts';

export const entities = [
  User,
  Session,
  CreditBalance,
  CreditTransaction,
  AdminSettings,
  Generation,
  StorageObject,
];
