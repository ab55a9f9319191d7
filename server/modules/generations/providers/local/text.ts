// Text and code for the local provider: deterministic documents built from the prompt, so the
// whole product works (and is testable) without an AI provider. They name the prompt's subject and
// differ per seed; they are honest scaffolds, not a language model.
import type { AgentType, GenerationKind } from '../../../../../shared/schemas/generations.ts';
import { seededRandom } from './seeded.ts';

export type TextRequest = {
  kind: Extract<GenerationKind, 'text' | 'code'> | GenerationKind;
  prompt: string;
  agentType?: AgentType;
  seed: string;
};

const STOP_WORDS = new Set(
  'a an and are as at be build by create for from give how i in into is it make me my need of on or please that the this to we with write you your'.split(
    ' ',
  ),
);

/** The prompt's subject: its first few meaningful words. */
export function subjectOf(prompt: string): string {
  const words = prompt
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word));
  return words.slice(0, 4).join(' ') || 'your idea';
}

const identifier = (subject: string) => {
  const [first = 'item', ...rest] = subject.split(' ').map((word) => word.replace(/[^a-z0-9]/g, ''));
  return first + rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('') || 'item';
};
const pascal = (subject: string) => {
  const camel = identifier(subject);
  return /^[a-z]/.test(camel) ? camel.charAt(0).toUpperCase() + camel.slice(1) : `X${camel}`;
};

/** Roughly what a tokenizer would count: ~4 characters per token. */
export const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

const OPENERS = [
  'Here is a structured take on',
  'A practical outline for',
  'A short brief on',
  'Working notes on',
];
const ANGLES = [
  'audience',
  'problem',
  'approach',
  'risks',
  'next steps',
  'measures of success',
  'open questions',
];

function writeText(prompt: string, seed: string): string {
  const random = seededRandom(seed);
  const subject = subjectOf(prompt);
  const sections = [...ANGLES].sort(() => random.next() - 0.5).slice(0, random.int(3, 5));
  const lines = [
    `# ${subject.charAt(0).toUpperCase()}${subject.slice(1)}`,
    '',
    `${random.pick(OPENERS)} ${subject}.`,
    '',
  ];
  for (const section of sections) {
    lines.push(`## ${section.charAt(0).toUpperCase()}${section.slice(1)}`, '');
    lines.push(`- What ${section} mean for ${subject}, stated in one sentence a newcomer understands.`);
    lines.push(`- One concrete example of ${section} drawn from "${prompt.slice(0, 80).trim()}".`);
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

const CODE_BY_AGENT: Record<AgentType, (name: string, camel: string, subject: string) => string> = {
  orchestrator: (name, camel, subject) => `// Plan for: ${subject}
export const plan${name} = [
  { agent: 'database', task: 'tables for ${subject}' },
  { agent: 'backend', task: 'procedures to create, list and update ${camel}' },
  { agent: 'frontend', task: 'a page to browse and edit ${camel}' },
  { agent: 'auth', task: 'only owners may change their ${camel}' },
] as const;`,
  backend: (name, camel) => `import { z } from 'zod';

export const create${name}Input = z.object({ title: z.string().min(1).max(200) });

export async function create${name}(db: { insert(row: object): Promise<{ id: string }> }, input: unknown) {
  const { title } = create${name}Input.parse(input);
  return db.insert({ kind: '${camel}', title, createdAt: new Date() });
}`,
  frontend: (
    name,
    camel,
  ) => `export function ${name}List({ items }: { items: { id: string; title: string }[] }) {
  if (items.length === 0) return <p>No ${camel} yet.</p>;
  return (
    <ul>
      {items.map((item) => (
        <li key={item.id}>{item.title}</li>
      ))}
    </ul>
  );
}`,
  database: (name, camel) => `create table ${camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} (
  id uuid primary key default gen_random_uuid(),
  title text not null check (length(title) between 1 and 200),
  created_at timestamptz not null default now()
);
-- ${name}: list newest first
create index on ${camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} (created_at desc);`,
  auth: (
    name,
    camel,
  ) => `export function canEdit${name}(user: { id: string; role: string }, ${camel}: { ownerId: string }) {
  return user.role === 'admin' || user.id === ${camel}.ownerId;
}`,
  integrations: (
    name,
    camel,
  ) => `export async function notify${name}(webhookUrl: string, ${camel}: { id: string }) {
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: '${camel}.created', id: ${camel}.id }),
  });
  if (!response.ok) throw new Error(\`webhook answered \${response.status}\`);
}`,
  devops: (name) => `# ${name} service
FROM node:24-slim
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
CMD ["node", "server/main.ts"]`,
};

function writeCode(prompt: string, agentType: AgentType, seed: string): string {
  const subject = subjectOf(prompt);
  const body = CODE_BY_AGENT[agentType](pascal(subject), identifier(subject), subject);
  const random = seededRandom(seed);
  const note = random.pick(['Generated scaffold', 'Starting point', 'First draft']);
  return `// ${note} (${agentType} agent) for: ${prompt.slice(0, 120).replace(/\s+/g, ' ').trim()}\n${body}\n`;
}

export function generateText(request: TextRequest): { text: string; tokensUsed: number } {
  const text =
    request.kind === 'code'
      ? writeCode(request.prompt, request.agentType ?? 'orchestrator', request.seed)
      : writeText(request.prompt, request.seed);
  return { text, tokensUsed: estimateTokens(request.prompt) + estimateTokens(text) };
}
