import { GenerationHistory } from '../features/generations/generation-history.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function HistoryPage() {
  return (
    <>
      <PageHeader title="History" description="Every generation, newest first." />
      <GenerationHistory />
    </>
  );
}
