import { useState } from 'react';
import { LiveGeneration } from '../features/generations/generation-card.tsx';
import { LogoForm } from '../features/generations/logo-form.tsx';
import { Card, PageHeader } from '../ui/layout.tsx';

export function GeneratePage() {
  const [created, setCreated] = useState<string[]>([]);
  return (
    <>
      <PageHeader
        title="Logo generator"
        description="Name your app, say what it does, pick two colours. Each logo costs credits; failures are refunded."
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,22rem)_1fr]">
        <Card>
          <LogoForm onCreated={(id) => setCreated((ids) => [id, ...ids])} />
        </Card>
        <div className="min-w-0 space-y-4" aria-live="polite">
          {created.length === 0 ? (
            <div className="flex h-full min-h-48 items-center justify-center rounded-2xl border border-dashed border-slate-300 p-8 text-center text-sm text-slate-600">
              Your logos appear here as soon as they are ready, no reload needed. Each set mixes layouts,
              typefaces and icons; download any as SVG or PNG.
            </div>
          ) : (
            created.map((id) => <LiveGeneration key={id} id={id} />)
          )}
        </div>
      </div>
    </>
  );
}
