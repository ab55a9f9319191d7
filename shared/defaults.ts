// Defaults defined once: the seed, the settings service and the client all read them from here.
import type { OperationType } from './schemas/credits.ts';

/** Credits per output, per operation. */
export const DEFAULT_FEATURE_COSTS: Record<OperationType, number> = {
  logo_generation: 1,
  image_generation: 2,
  text_generation: 1,
  code_generation: 5,
};

/** Credits granted on sign-up. */
export const DEFAULT_SIGNUP_BONUS = 100;

/** The demo seed's plans (edited later by admins or synced from Stripe by `db:sync-stripe`). */
export const DEFAULT_PLANS = [
  {
    key: 'free',
    name: 'Free',
    description: 'Try every generator with your sign-up credits.',
    creditsPerPeriod: 0,
    priceMonthlyCents: 0,
    priceYearlyCents: 0,
    features: ['100 credits on sign-up', 'Logo, image, text and code generators', 'Community support'],
    badge: null,
    highlight: false,
    ctaType: 'none',
    ctaLabel: 'Current plan',
  },
  {
    key: 'basic',
    name: 'Basic',
    description: 'For side projects that ship.',
    creditsPerPeriod: 500,
    priceMonthlyCents: 900,
    priceYearlyCents: 9000,
    features: ['500 credits every month', 'Credits expire at period end', 'Email support'],
    badge: null,
    highlight: false,
    ctaType: 'checkout',
    ctaLabel: 'Choose Basic',
  },
  {
    key: 'pro',
    name: 'Pro',
    description: 'For teams generating every day.',
    creditsPerPeriod: 2500,
    priceMonthlyCents: 2900,
    priceYearlyCents: 29000,
    features: ['2,500 credits every month', 'Priority generation queue', 'Organizations and projects'],
    badge: 'Most popular',
    highlight: true,
    ctaType: 'checkout',
    ctaLabel: 'Choose Pro',
  },
  {
    key: 'enterprise',
    name: 'Enterprise',
    description: 'Volume, SSO and a contract.',
    creditsPerPeriod: 0,
    priceMonthlyCents: 0,
    priceYearlyCents: 0,
    features: ['Custom credit volume', 'SSO and audit exports', 'Dedicated support'],
    badge: null,
    highlight: false,
    ctaType: 'contact',
    ctaLabel: 'Contact sales',
  },
] as const;

/** The demo seed's one-off credit packages. */
export const DEFAULT_CREDIT_PACKAGES = [
  { name: 'Starter', credits: 100, priceCents: 500 },
  { name: 'Builder', credits: 500, priceCents: 2000 },
  { name: 'Studio', credits: 2000, priceCents: 6000 },
] as const;
