// The built-in provider: really generates, on this machine, deterministically. Logos are distinct
// SVGs built from the app name, focus and colours; text and code are deterministic documents that
// name the prompt's subject.
import type { LogoInput } from '../../../../shared/schemas/generations.ts';
import { renderLogos } from './local/logo-svg.ts';
import { generateText } from './local/text.ts';
import type { GenerationProvider, ProviderJob, ProviderResult } from './provider.ts';

const slug = (value: string) =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40) || 'logo';

export function createLocalProvider(): GenerationProvider {
  return {
    name: 'local',
    async create(job: ProviderJob): Promise<ProviderResult> {
      const started = Date.now();
      if (job.kind === 'logo' || job.kind === 'image') {
        const input =
          job.kind === 'logo'
            ? (job.input as LogoInput)
            : {
                appName: job.prompt.slice(0, 30),
                appFocus: job.prompt,
                color1: '#4f46e5',
                color2: '#f59e0b',
              };
        const svgs = renderLogos({ ...input, count: job.outputCount, seed: job.generationId });
        return {
          state: 'succeeded',
          output: {
            files: svgs.map((svg, index) => ({
              name: `${slug(input.appName)}-${index + 1}.svg`,
              contentType: 'image/svg+xml',
              body: Buffer.from(svg, 'utf8'),
            })),
            providerResponse: { provider: 'local', outputs: svgs.length, ms: Date.now() - started },
          },
        };
      }
      const { text, tokensUsed } = generateText({
        kind: job.kind,
        prompt: job.prompt,
        agentType: job.agentType ?? undefined,
        seed: job.generationId,
      });
      return {
        state: 'succeeded',
        output: {
          files: [],
          text,
          tokensUsed,
          providerResponse: { provider: 'local', ms: Date.now() - started },
        },
      };
    },
    async get(): Promise<ProviderResult> {
      // Local generations finish inside create(); there is never a prediction to resume.
      return { state: 'failed', error: 'The local provider has no pending predictions' };
    },
    async cancel() {},
  };
}
