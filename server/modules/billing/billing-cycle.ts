// The billing-cycle job (pg-boss cron, every 10 minutes): the dev checkout's renewals at period end
// (when it is on), then the current month's credits of every yearly subscription (once per month).
import { renewDevSubscriptions } from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';
import { grantDueMonthlyCredits } from './subscriptions.service.ts';

export async function runBillingCycle(deps: PaymentWebhookDeps, now = new Date()) {
  const devRenewals = deps.config.devCheckout ? await renewDevSubscriptions(deps, now) : 0;
  const monthlyGrants = await grantDueMonthlyCredits(deps.orm.em.fork(), now);
  return { devRenewals, monthlyGrants };
}
