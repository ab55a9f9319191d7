// Every entity the ORM knows, module by module. New module entities are added here.
import { AuditLog } from '../modules/audit/audit-log.entity.ts';
import { AutoTopUp, AutoTopUpAttempt } from '../modules/billing/auto-top-up.entity.ts';
import { Checkout } from '../modules/billing/checkout.entity.ts';
import { CreditPackage } from '../modules/billing/credit-package.entity.ts';
import { Customer } from '../modules/billing/customer.entity.ts';
import { Payment } from '../modules/billing/payment.entity.ts';
import { PaymentReversal } from '../modules/billing/payment-reversal.entity.ts';
import { Plan } from '../modules/billing/plan.entity.ts';
import { Subscription } from '../modules/billing/subscription.entity.ts';
import { SubscriptionEvent } from '../modules/billing/subscription-event.entity.ts';
import { WebhookEvent } from '../modules/billing/webhook-event.entity.ts';
import { ApiKeyDailySpend } from '../modules/credits/api-key-daily-spend.entity.ts';
import { CreditBalance } from '../modules/credits/credit-balance.entity.ts';
import { CreditGrant } from '../modules/credits/credit-grant.entity.ts';
import { CreditGrantAllocation } from '../modules/credits/credit-grant-allocation.entity.ts';
import { CreditHold } from '../modules/credits/credit-hold.entity.ts';
import { CreditTransaction } from '../modules/credits/credit-transaction.entity.ts';
import { Generation } from '../modules/generations/generation.entity.ts';
import { ApiKey } from '../modules/identity/api-key.entity.ts';
import { AuthToken } from '../modules/identity/auth-token.entity.ts';
import { OAuthAccount } from '../modules/identity/oauth-account.entity.ts';
import { Session } from '../modules/identity/session.entity.ts';
import { User } from '../modules/identity/user.entity.ts';
import { MailOutbox } from '../modules/mail/mail-outbox.entity.ts';
import { VerifyRun } from '../modules/metrics/verify-run.entity.ts';
import { Feature } from '../modules/orgs/feature.entity.ts';
import { Invitation } from '../modules/orgs/invitation.entity.ts';
import { Membership } from '../modules/orgs/membership.entity.ts';
import { Organization } from '../modules/orgs/organization.entity.ts';
import { Deployment } from '../modules/projects/deployment.entity.ts';
import { Project } from '../modules/projects/project.entity.ts';
import { RateLimitWindow } from '../modules/rate-limits/rate-limit-window.entity.ts';
import { AdminSettings } from '../modules/settings/admin-settings.entity.ts';
import { FeatureCostVersion } from '../modules/settings/feature-cost-version.entity.ts';
import { StorageObject } from '../modules/storage/storage-object.entity.ts';

export const entities = [
  User,
  Session,
  CreditBalance,
  CreditTransaction,
  AdminSettings,
  Generation,
  StorageObject,
  Plan,
  CreditPackage,
  Customer,
  Subscription,
  Payment,
  SubscriptionEvent,
  WebhookEvent,
  CreditGrant,
  AuditLog,
  AuthToken,
  ApiKey,
  MailOutbox,
  Organization,
  Membership,
  Invitation,
  Feature,
  Project,
  Deployment,
  RateLimitWindow,
  Checkout,
  PaymentReversal,
  CreditGrantAllocation,
  VerifyRun,
  OAuthAccount,
  AutoTopUp,
  AutoTopUpAttempt,
  CreditHold,
  ApiKeyDailySpend,
  FeatureCostVersion,
];
