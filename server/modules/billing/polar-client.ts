// The few calls we make to Polar's API (https://polar.sh/docs/api-reference), over fetch with the
// organization access token: checkout sessions, customer portal sessions, subscription changes.
// POLAR_API_BASE points it elsewhere (the sandbox, or a loopback server in tests).
import type { Config } from '../../config.ts';

export class PolarApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The parts of Polar's Subscription object we read (webhook `data` has the same shape). */
export type PolarSubscription = Record<string, unknown> & { id: string };

export type PolarCheckoutCreate = {
  products: string[];
  prices?: Record<string, { amount_type: 'fixed'; price_amount: number; price_currency: string }[]>;
  external_customer_id: string;
  customer_email?: string;
  success_url: string;
  return_url?: string;
  metadata: Record<string, string | number | boolean>;
};

export type PolarClient = {
  createCheckout(body: PolarCheckoutCreate): Promise<{ id: string; url: string; expires_at?: string }>;
  createCustomerSession(body: {
    external_customer_id: string;
    return_url?: string;
  }): Promise<{ customer_portal_url: string }>;
  getSubscription(id: string): Promise<PolarSubscription>;
  updateSubscription(
    id: string,
    body:
      | {
          product_id: string;
          proration_behavior: 'invoice' | 'prorate' | 'next_period';
          metadata?: Record<string, string | number | boolean>;
        }
      | { cancel_at_period_end: boolean }
      | { pending_update: null },
  ): Promise<PolarSubscription>;
  /** Revokes (ends now) a subscription: used for a duplicate one. */
  revokeSubscription(id: string): Promise<PolarSubscription>;
};

export function createPolarClient(config: Pick<Config, 'polar'>): PolarClient | null {
  const token = config.polar.accessToken;
  if (!token) return null;
  const base = config.polar.apiBase.replace(/\/+$/, '');
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { detail?: unknown };
        if (parsed.detail)
          detail = typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail);
      } catch {}
      throw new PolarApiError(
        response.status,
        `Polar ${method} ${path} answered ${response.status}: ${detail}`,
      );
    }
    return (text ? JSON.parse(text) : null) as T;
  }
  return {
    createCheckout: (body) => call('POST', '/v1/checkouts/', body),
    createCustomerSession: (body) => call('POST', '/v1/customer-sessions/', body),
    getSubscription: (id) => call('GET', `/v1/subscriptions/${encodeURIComponent(id)}`),
    updateSubscription: (id, body) => call('PATCH', `/v1/subscriptions/${encodeURIComponent(id)}`, body),
    revokeSubscription: (id) => call('DELETE', `/v1/subscriptions/${encodeURIComponent(id)}`),
  };
}
