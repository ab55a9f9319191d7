// Logo rendering for the local provider: each output is a distinct, valid SVG built from the app's
// name (its monogram and wordmark), its focus (a motif picked from the words in it) and its two
// colours. Deterministic per seed and index, so the same generation renders the same files.
import { type Random, seededRandom } from './seeded.ts';

export type LogoRequest = {
  appName: string;
  appFocus: string;
  color1: string;
  color2: string;
  count: number;
  seed: string;
};

const SIZE = 512;

const escapeXml = (value: string) => value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Up to two initials: "Pixel Forge" → "PF", "forgeline" → "F". */
export function monogram(appName: string): string {
  const words = appName.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => [...word][0] ?? '');
  return (letters.join('') || '?').toUpperCase();
}

type Motif = (random: Random, color: string) => string;

// Motifs keyed by words a focus may contain; the first match wins, else one is picked by seed.
const MOTIFS: [RegExp, Motif][] = [
  [
    /fit|health|run|sport|gym|heart/i,
    (_, c) =>
      `<path d="M256 356 C 150 290 140 200 200 180 C 235 168 256 200 256 210 C 256 200 277 168 312 180 C 372 200 362 290 256 356 Z" fill="${c}" opacity="0.9"/>`,
  ],
  [
    /music|audio|sound|podcast|song/i,
    (_, c) =>
      `<g fill="${c}"><rect x="200" y="160" width="16" height="150"/><rect x="296" y="140" width="16" height="150"/><rect x="200" y="140" width="112" height="22"/><circle cx="192" cy="312" r="26"/><circle cx="288" cy="292" r="26"/></g>`,
  ],
  [
    /finance|money|bank|pay|budget|invest/i,
    (_, c) =>
      `<g fill="${c}"><rect x="176" y="280" width="36" height="60"/><rect x="238" y="230" width="36" height="110"/><rect x="300" y="180" width="36" height="160"/></g>`,
  ],
  [
    /food|cook|recipe|restaurant|coffee/i,
    (_, c) =>
      `<g fill="none" stroke="${c}" stroke-width="14" stroke-linecap="round"><path d="M190 330 Q 256 380 322 330"/><path d="M190 330 H 322"/><path d="M226 270 q 10 -30 0 -60"/><path d="M286 270 q 10 -30 0 -60"/></g>`,
  ],
  [
    /travel|map|trip|flight|world|globe/i,
    (_, c) =>
      `<g fill="none" stroke="${c}" stroke-width="12"><circle cx="256" cy="256" r="90"/><ellipse cx="256" cy="256" rx="40" ry="90"/><path d="M166 256 H 346"/></g>`,
  ],
  [
    /code|dev|software|ai|data|cloud|tech/i,
    (_, c) =>
      `<g fill="none" stroke="${c}" stroke-width="16" stroke-linecap="round" stroke-linejoin="round"><path d="M210 200 L 160 256 L 210 312"/><path d="M302 200 L 352 256 L 302 312"/><path d="M276 180 L 236 332"/></g>`,
  ],
  [
    /photo|camera|image|art|design|paint/i,
    (_, c) =>
      `<g fill="none" stroke="${c}" stroke-width="14"><rect x="166" y="196" width="180" height="130" rx="18"/><circle cx="256" cy="262" r="38"/><path d="M216 196 l 14 -22 h 52 l 14 22"/></g>`,
  ],
  [
    /learn|school|edu|study|book|read/i,
    (_, c) =>
      `<g fill="none" stroke="${c}" stroke-width="14" stroke-linejoin="round"><path d="M256 210 Q 210 180 160 196 V 330 Q 210 314 256 344 Q 302 314 352 330 V 196 Q 302 180 256 210 Z"/><path d="M256 210 V 344"/></g>`,
  ],
  [
    /chat|message|social|community|talk/i,
    (_, c) =>
      `<path d="M170 200 h172 a24 24 0 0 1 24 24 v84 a24 24 0 0 1 -24 24 h-92 l-46 36 v-36 h-34 a24 24 0 0 1 -24 -24 v-84 a24 24 0 0 1 24 -24 Z" fill="${c}"/>`,
  ],
];

const FALLBACK_MOTIFS: Motif[] = [
  (random, c) => {
    const points = random.int(5, 8);
    const path = Array.from({ length: points * 2 }, (_, i) => {
      const radius = i % 2 === 0 ? 96 : 44;
      const angle = (Math.PI * i) / points - Math.PI / 2;
      return `${(256 + radius * Math.cos(angle)).toFixed(1)},${(256 + radius * Math.sin(angle)).toFixed(1)}`;
    });
    return `<polygon points="${path.join(' ')}" fill="${c}"/>`;
  },
  (random, c) =>
    Array.from(
      { length: 3 },
      (_, i) =>
        `<circle cx="256" cy="256" r="${40 + i * 32}" fill="none" stroke="${c}" stroke-width="${random.int(8, 14)}" opacity="${1 - i * 0.25}"/>`,
    ).join(''),
  (_, c) =>
    `<path d="M256 150 L 356 330 H 156 Z" fill="none" stroke="${c}" stroke-width="18" stroke-linejoin="round"/>`,
];

function motifFor(focus: string, random: Random): Motif {
  const match = MOTIFS.find(([pattern]) => pattern.test(focus));
  return match ? match[1] : random.pick(FALLBACK_MOTIFS);
}

function hexagon(inset: number): string {
  const r = SIZE / 2 - inset;
  return Array.from({ length: 6 }, (_, i) => {
    const angle = (Math.PI / 3) * i - Math.PI / 6;
    return `${(256 + r * Math.cos(angle)).toFixed(1)},${(256 + r * Math.sin(angle)).toFixed(1)}`;
  }).join(' ');
}

const BADGES: ((fill: string) => string)[] = [
  (fill) => `<circle cx="256" cy="256" r="224" fill="${fill}"/>`,
  (fill) => `<rect x="32" y="32" width="448" height="448" rx="104" fill="${fill}"/>`,
  (fill) => `<polygon points="${hexagon(24)}" fill="${fill}"/>`,
  (fill) =>
    `<path d="M256 28 L 460 104 V 250 C 460 370 370 450 256 484 C 142 450 52 370 52 250 V 104 Z" fill="${fill}"/>`,
];

function renderOne(request: LogoRequest, index: number): string {
  const random = seededRandom(`${request.seed}:${index}`);
  const id = `g${index}`;
  const { color1, color2 } = request;
  const angle = random.int(0, 7) * 45;
  const badge = BADGES[index % BADGES.length] ?? BADGES[0];
  // Alternate between a motif mark and a monogram mark so a set of outputs differs visibly.
  const useMonogram = (index + random.int(0, 1)) % 2 === 1;
  const mark = useMonogram
    ? `<text x="256" y="${monogram(request.appName).length > 1 ? 300 : 312}" text-anchor="middle" font-family="Inter, Helvetica, Arial, sans-serif" font-weight="800" font-size="${monogram(request.appName).length > 1 ? 150 : 190}" fill="#ffffff" letter-spacing="-4">${escapeXml(monogram(request.appName))}</text>`
    : motifFor(request.appFocus, random)(random, '#ffffff');
  const name = escapeXml(request.appName);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE + 96}" width="${SIZE}" height="${SIZE + 96}" role="img" aria-label="${name} logo">`,
    `<title>${name}</title>`,
    `<defs><linearGradient id="${id}" gradientTransform="rotate(${angle} 0.5 0.5)"><stop offset="0" stop-color="${color1}"/><stop offset="1" stop-color="${color2}"/></linearGradient></defs>`,
    badge?.(`url(#${id})`),
    mark,
    `<text x="256" y="${SIZE + 70}" text-anchor="middle" font-family="Inter, Helvetica, Arial, sans-serif" font-weight="700" font-size="52" fill="${color1}">${name}</text>`,
    '</svg>',
  ].join('');
}

export function renderLogos(request: LogoRequest): string[] {
  return Array.from({ length: request.count }, (_, index) => renderOne(request, index));
}
