// Logo rendering for the local provider: each output is a distinct, valid SVG built from the app's
// name (monogram and wordmark), its focus (an icon from the set its words pick) and its two colours.
// A set varies on three axes — layout (stacked badge, horizontal lockup, emblem with the name on a
// ring, wordmark, app icon, outlined badge), typography (grotesk, geometric, serif, mono, condensed
// capitals, light spaced capitals) and icon (several per subject, plus abstract marks) — so eight
// outputs are eight different ideas, not one frame recoloured. Deterministic per seed and index, so
// the same generation renders the same files. Font stacks name common system fonts first and the
// bundled DejaVu family before the generic one, so the server's PNG renderer (resvg, given only
// DejaVu) and browsers draw the same kind of type.
import { type Random, seededRandom } from './seeded.ts';

export type LogoRequest = {
  appName: string;
  appFocus: string;
  color1: string;
  color2: string;
  count: number;
  seed: string;
};

const escapeXml = (value: string) => value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Up to two initials: "Pixel Forge" → "PF", "forgeline" → "F". */
export function monogram(appName: string): string {
  const words = appName.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => [...word][0] ?? '');
  return (letters.join('') || '?').toUpperCase();
}

// ——— Typography ———

type Typeface = {
  name: string;
  family: string;
  weight: number;
  /** Average advance of a glyph, in ems, to fit a name to a width. */
  width: number;
  letterSpacing: number;
  style?: 'italic';
  stretch?: 'condensed';
  transform: (text: string) => string;
};

const TYPEFACES: Typeface[] = [
  {
    name: 'bold sans',
    family: "'DejaVu Sans', Inter, 'Helvetica Neue', Arial, sans-serif",
    weight: 700,
    width: 0.66,
    letterSpacing: -1,
    transform: (text) => text,
  },
  {
    name: 'lowercase sans',
    family: "'DejaVu Sans', 'Avenir Next', Futura, 'Century Gothic', sans-serif",
    weight: 400,
    width: 0.6,
    letterSpacing: 0,
    transform: (text) => text.toLowerCase(),
  },
  {
    name: 'serif',
    family: "'DejaVu Serif', Georgia, 'Times New Roman', serif",
    weight: 700,
    width: 0.7,
    letterSpacing: 0,
    transform: (text) => text,
  },
  {
    name: 'serif italic',
    family: "'DejaVu Serif', Georgia, 'Times New Roman', serif",
    weight: 400,
    style: 'italic',
    width: 0.6,
    letterSpacing: 0,
    transform: (text) => text,
  },
  {
    name: 'mono',
    family: "'DejaVu Sans Mono', 'SF Mono', Menlo, Consolas, monospace",
    weight: 700,
    width: 0.62,
    letterSpacing: 0,
    transform: (text) => text.toLowerCase(),
  },
  {
    name: 'condensed capitals',
    family: "'DejaVu Sans', 'Arial Narrow', 'Roboto Condensed', sans-serif",
    weight: 700,
    stretch: 'condensed',
    width: 0.7,
    letterSpacing: 3,
    transform: (text) => text.toUpperCase(),
  },
  {
    name: 'light spaced capitals',
    family: "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif",
    weight: 200,
    width: 0.72,
    letterSpacing: 8,
    transform: (text) => text.toUpperCase(),
  },
];

/** A font size (≤ `max`) at which `text` fits `width` in this typeface. */
function fitSize(face: Typeface, text: string, width: number, max: number) {
  const glyphs = [...text].length || 1;
  const size = (width - face.letterSpacing * glyphs) / (glyphs * face.width);
  return Math.max(14, Math.min(max, Math.floor(size)));
}

/** The font attributes of a typeface at a size. */
function font(face: Typeface, size: number, letterSpacing = face.letterSpacing) {
  return [
    `font-family="${face.family}" font-weight="${face.weight}" font-size="${size}"`,
    face.style ? ` font-style="${face.style}"` : '',
    face.stretch ? ` font-stretch="${face.stretch}"` : '',
    letterSpacing ? ` letter-spacing="${letterSpacing}"` : '',
  ].join('');
}

function textEl(
  face: Typeface,
  text: string,
  x: number,
  y: number,
  size: number,
  fill: string,
  anchor = 'middle',
) {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}" ${font(face, size)} fill="${fill}">${escapeXml(face.transform(text))}</text>`;
}

// ——— Icons: drawn around (256, 256), about ±110 ———

type Icon = { name: string; draw: (c: string, random: Random) => string };

const stroke = (c: string, width = 14) =>
  `fill="none" stroke="${c}" stroke-width="${width}" stroke-linecap="round" stroke-linejoin="round"`;

/** A bar height for the equalizer icon. */
const h = (random: Random) => 40 + random.int(0, 6) * 16;

const ICON_SETS: { subject: string; pattern: RegExp; icons: Icon[] }[] = [
  {
    subject: 'health',
    pattern: /fit|health|run|sport|gym|heart|care|medic|well/i,
    icons: [
      {
        name: 'heart',
        draw: (c) =>
          `<path d="M256 356 C 150 290 140 200 200 180 C 235 168 256 200 256 210 C 256 200 277 168 312 180 C 372 200 362 290 256 356 Z" fill="${c}"/>`,
      },
      {
        name: 'pulse',
        draw: (c) => `<path d="M150 266 H 210 L 236 196 L 276 326 L 302 266 H 362" ${stroke(c, 16)}/>`,
      },
      {
        name: 'cross',
        draw: (c) =>
          `<path d="M226 156 h60 v70 h70 v60 h-70 v70 h-60 v-70 h-70 v-60 h70 Z" fill="${c}" stroke="${c}" stroke-width="8" stroke-linejoin="round"/>`,
      },
    ],
  },
  {
    subject: 'music',
    pattern: /music|audio|sound|podcast|song|radio/i,
    icons: [
      {
        name: 'notes',
        draw: (c) =>
          `<g fill="${c}"><rect x="200" y="160" width="16" height="150"/><rect x="296" y="140" width="16" height="150"/><rect x="200" y="140" width="112" height="22"/><circle cx="192" cy="312" r="26"/><circle cx="288" cy="292" r="26"/></g>`,
      },
      {
        name: 'equalizer',
        draw: (c, r) =>
          `<g fill="${c}">${[0, 1, 2, 3, 4].map((i) => `<rect x="${166 + i * 38}" y="${256 - h(r) / 2}" width="24" height="${h(r)}" rx="12"/>`).join('')}</g>`,
      },
      {
        name: 'waves',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M220 206 a70 70 0 0 1 0 100"/><path d="M262 176 a110 110 0 0 1 0 160"/><circle cx="186" cy="256" r="22" fill="${c}"/></g>`,
      },
    ],
  },
  {
    subject: 'finance',
    pattern: /financ|money|bank|pay|budget|invest|saving|wallet|crypto/i,
    icons: [
      {
        name: 'bars',
        draw: (c) =>
          `<g fill="${c}"><rect x="176" y="280" width="36" height="60" rx="4"/><rect x="238" y="230" width="36" height="110" rx="4"/><rect x="300" y="180" width="36" height="160" rx="4"/></g>`,
      },
      {
        name: 'trend',
        draw: (c) =>
          `<g ${stroke(c, 16)}><path d="M160 330 L 226 262 L 270 296 L 350 198"/><path d="M300 196 H 352 V 248"/></g>`,
      },
      {
        name: 'coin',
        draw: (c) =>
          `<g ${stroke(c, 14)}><circle cx="256" cy="256" r="96"/><path d="M288 214 c -10 -14 -64 -18 -64 12 c 0 30 68 18 68 50 c 0 30 -56 28 -70 10"/><path d="M256 178 v 24 M256 310 v 24"/></g>`,
      },
    ],
  },
  {
    subject: 'food',
    pattern: /food|cook|recipe|restaurant|coffee|bake|bakery|kitchen|meal/i,
    icons: [
      {
        name: 'bowl',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M170 270 Q 256 380 342 270 Z"/><path d="M226 236 q 10 -30 0 -60"/><path d="M286 236 q 10 -30 0 -60"/></g>`,
      },
      {
        name: 'cup',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M180 214 h120 v70 a60 60 0 0 1 -120 0 Z"/><path d="M300 230 h22 a28 28 0 0 1 0 56 h-22"/><path d="M170 350 h150"/></g>`,
      },
      {
        name: 'fork-knife',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M206 160 v70 a24 24 0 0 0 48 0 v-70 M230 160 v196"/><path d="M310 356 V 160 c -30 20 -36 70 -30 110 h30"/></g>`,
      },
    ],
  },
  {
    subject: 'travel',
    pattern: /travel|map|trip|flight|world|globe|hotel|tour/i,
    icons: [
      {
        name: 'globe',
        draw: (c) =>
          `<g ${stroke(c, 12)}><circle cx="256" cy="256" r="96"/><ellipse cx="256" cy="256" rx="42" ry="96"/><path d="M160 256 H 352"/></g>`,
      },
      {
        name: 'pin',
        draw: (c) =>
          `<path d="M256 366 C 206 300 176 262 176 226 a80 80 0 0 1 160 0 c 0 36 -30 74 -80 140 Z M256 196 a30 30 0 1 0 0.1 0 Z" fill="${c}" fill-rule="evenodd"/>`,
      },
      {
        name: 'plane',
        draw: (c) =>
          `<path d="M246 156 c 10 -14 30 -14 30 4 v 70 l 86 46 v 26 l -86 -22 v 50 l 26 20 v 20 l -46 -12 l -46 12 v -20 l 26 -20 v -50 l -86 22 v -26 l 86 -46 Z" fill="${c}" transform="rotate(45 256 256)"/>`,
      },
    ],
  },
  {
    subject: 'code',
    pattern: /code|dev|software|\bai\b|data|cloud|tech|api|robot/i,
    icons: [
      {
        name: 'brackets',
        draw: (c) =>
          `<g ${stroke(c, 16)}><path d="M210 200 L 160 256 L 210 312"/><path d="M302 200 L 352 256 L 302 312"/><path d="M276 180 L 236 332"/></g>`,
      },
      {
        name: 'terminal',
        draw: (c) =>
          `<g ${stroke(c, 14)}><rect x="160" y="180" width="192" height="152" rx="18"/><path d="M196 230 l 34 26 l -34 26"/><path d="M250 290 h 50"/></g>`,
      },
      {
        name: 'nodes',
        draw: (c) =>
          `<g><path d="M186 316 L 256 196 L 326 316 Z" ${stroke(c, 10)}/><circle cx="256" cy="196" r="26" fill="${c}"/><circle cx="186" cy="316" r="26" fill="${c}"/><circle cx="326" cy="316" r="26" fill="${c}"/></g>`,
      },
    ],
  },
  {
    subject: 'photo',
    pattern: /photo|camera|image|art|design|paint|video|film/i,
    icons: [
      {
        name: 'camera',
        draw: (c) =>
          `<g ${stroke(c, 14)}><rect x="166" y="196" width="180" height="130" rx="18"/><circle cx="256" cy="262" r="38"/><path d="M216 196 l 14 -22 h 52 l 14 22"/></g>`,
      },
      {
        name: 'aperture',
        draw: (c) =>
          `<g ${stroke(c, 12)}><circle cx="256" cy="256" r="96"/>${[0, 60, 120, 180, 240, 300].map((a) => `<path d="M256 160 L 300 256" transform="rotate(${a} 256 256)"/>`).join('')}</g>`,
      },
      {
        name: 'brush',
        draw: (c) =>
          `<g><path d="M330 160 L 230 270" ${stroke(c, 22)}/><path d="M222 262 c -40 0 -50 40 -56 90 c 40 -6 86 -20 86 -60 Z" fill="${c}"/></g>`,
      },
    ],
  },
  {
    subject: 'learning',
    pattern: /learn|school|edu|study|book|read|course|teach/i,
    icons: [
      {
        name: 'book',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M256 210 Q 210 180 160 196 V 330 Q 210 314 256 344 Q 302 314 352 330 V 196 Q 302 180 256 210 Z"/><path d="M256 210 V 344"/></g>`,
      },
      {
        name: 'cap',
        draw: (c) =>
          `<g><path d="M256 176 L 372 226 L 256 276 L 140 226 Z" fill="${c}"/><path d="M196 252 v 50 c 30 30 90 30 120 0 v -50" ${stroke(c, 14)}/><path d="M356 232 v 70" ${stroke(c, 10)}/></g>`,
      },
      {
        name: 'bulb',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M226 300 c 0 -30 -46 -40 -46 -96 a76 76 0 0 1 152 0 c 0 56 -46 66 -46 96 Z"/><path d="M230 334 h 52 M240 362 h 32"/></g>`,
      },
    ],
  },
  {
    subject: 'chat',
    pattern: /chat|message|social|community|talk|friend|team/i,
    icons: [
      {
        name: 'bubble',
        draw: (c) =>
          `<path d="M170 200 h172 a24 24 0 0 1 24 24 v84 a24 24 0 0 1 -24 24 h-92 l-46 36 v-36 h-34 a24 24 0 0 1 -24 -24 v-84 a24 24 0 0 1 24 -24 Z" fill="${c}"/>`,
      },
      {
        name: 'bubbles',
        draw: (c) =>
          `<g ${stroke(c, 12)}><rect x="150" y="176" width="150" height="100" rx="30"/><path d="M222 300 h 110 a30 30 0 0 0 30 -30 v -36"/><path d="M188 276 l -16 30 l 40 -30"/></g>`,
      },
      {
        name: 'people',
        draw: (c) =>
          `<g fill="${c}"><circle cx="210" cy="216" r="34"/><circle cx="306" cy="216" r="34"/><path d="M146 336 a64 64 0 0 1 128 0 Z"/><path d="M242 336 a64 64 0 0 1 128 0 Z" opacity="0.75"/></g>`,
      },
    ],
  },
  {
    subject: 'shop',
    pattern: /shop|store|commerce|market|retail|sell|fashion/i,
    icons: [
      {
        name: 'bag',
        draw: (c) =>
          `<g><path d="M176 216 h160 l -12 140 h-136 Z" fill="${c}"/><path d="M216 226 v -30 a40 40 0 0 1 80 0 v 30" ${stroke(c, 12)}/></g>`,
      },
      {
        name: 'tag',
        draw: (c) =>
          `<path d="M176 176 h96 l 100 100 l -96 96 l -100 -100 Z M222 222 a16 16 0 1 0 0.1 0 Z" fill="${c}" fill-rule="evenodd"/>`,
      },
      {
        name: 'cart',
        draw: (c) =>
          `<g><path d="M150 190 h36 l 30 110 h110 l 26 -80 H 200" ${stroke(c, 14)}/><circle cx="228" cy="336" r="16" fill="${c}"/><circle cx="316" cy="336" r="16" fill="${c}"/></g>`,
      },
    ],
  },
  {
    subject: 'nature',
    pattern: /eco|green|plant|garden|nature|climate|energy|farm|pet/i,
    icons: [
      {
        name: 'leaf',
        draw: (c) =>
          `<g><path d="M176 336 C 160 220 240 166 356 166 C 356 282 292 346 176 336 Z" fill="${c}"/><path d="M190 322 L 300 216" ${stroke('#ffffff', 8)} opacity="0.6"/></g>`,
      },
      {
        name: 'sprout',
        draw: (c) =>
          `<g><path d="M256 356 V 250" ${stroke(c, 14)}/><path d="M256 260 c -10 -60 -60 -80 -100 -76 c 0 50 40 84 100 76 Z" fill="${c}"/><path d="M256 236 c 10 -60 60 -80 100 -76 c 0 50 -40 84 -100 76 Z" fill="${c}"/></g>`,
      },
      {
        name: 'drop',
        draw: (c) =>
          `<path d="M256 150 C 300 216 336 256 336 296 a80 80 0 0 1 -160 0 C 176 256 212 216 256 150 Z" fill="${c}"/>`,
      },
    ],
  },
  {
    subject: 'security',
    pattern: /secur|privacy|password|safe|protect|lock|auth/i,
    icons: [
      {
        name: 'lock',
        draw: (c) =>
          `<g><rect x="180" y="236" width="152" height="120" rx="18" fill="${c}"/><path d="M210 236 v -30 a46 46 0 0 1 92 0 v 30" ${stroke(c, 16)}/></g>`,
      },
      {
        name: 'shield-check',
        draw: (c) =>
          `<g ${stroke(c, 14)}><path d="M256 160 L 340 190 V 256 C 340 310 300 344 256 360 C 212 344 172 310 172 256 V 190 Z"/><path d="M216 258 l 28 28 l 52 -56"/></g>`,
      },
      {
        name: 'key',
        draw: (c) =>
          `<g ${stroke(c, 16)}><circle cx="206" cy="256" r="46"/><path d="M252 256 H 352 M320 256 v 36 M352 256 v 26"/></g>`,
      },
    ],
  },
];

const ABSTRACT_ICONS: Icon[] = [
  {
    name: 'star',
    draw: (c, random) => {
      const points = random.int(5, 8);
      const path = Array.from({ length: points * 2 }, (_, i) => {
        const radius = i % 2 === 0 ? 100 : 46;
        const angle = (Math.PI * i) / points - Math.PI / 2;
        return `${(256 + radius * Math.cos(angle)).toFixed(1)},${(256 + radius * Math.sin(angle)).toFixed(1)}`;
      });
      return `<polygon points="${path.join(' ')}" fill="${c}"/>`;
    },
  },
  {
    name: 'rings',
    draw: (c, random) =>
      Array.from(
        { length: 3 },
        (_, i) =>
          `<circle cx="256" cy="256" r="${36 + i * 32}" fill="none" stroke="${c}" stroke-width="${random.int(8, 14)}" opacity="${1 - i * 0.25}"/>`,
      ).join(''),
  },
  {
    name: 'peak',
    draw: (c) =>
      `<path d="M256 150 L 356 330 H 156 Z" fill="none" stroke="${c}" stroke-width="18" stroke-linejoin="round"/>`,
  },
  {
    name: 'spark',
    draw: (c) =>
      `<path d="M256 146 C 266 226 286 246 366 256 C 286 266 266 286 256 366 C 246 286 226 266 146 256 C 226 246 246 226 256 146 Z" fill="${c}"/>`,
  },
  {
    name: 'bolt',
    draw: (c) =>
      `<path d="M276 146 L 180 276 H 248 L 232 366 L 332 228 H 262 Z" fill="${c}" stroke="${c}" stroke-width="6" stroke-linejoin="round"/>`,
  },
  {
    name: 'cube',
    draw: (c) =>
      `<g ${stroke(c, 12)}><path d="M256 156 L 346 206 V 306 L 256 356 L 166 306 V 206 Z"/><path d="M166 206 L 256 256 L 346 206 M256 256 V 356"/></g>`,
  },
];

function iconFor(focus: string, random: Random, index: number): Icon {
  const set = ICON_SETS.find(({ pattern }) => pattern.test(focus));
  // A subject's icons come first; every third output of a set takes an abstract mark instead.
  const subjectIcon = set?.icons[(index + random.int(0, 2)) % set.icons.length];
  if (subjectIcon && index % 3 !== 2) return subjectIcon;
  return random.pick(ABSTRACT_ICONS);
}

const place = (icon: string, cx: number, cy: number, scale: number) =>
  `<g transform="translate(${cx} ${cy}) scale(${scale}) translate(-256 -256)">${icon}</g>`;

// ——— Badges (the shapes behind a mark), drawn in a 512 box ———

function hexagon(cx: number, cy: number, r: number): string {
  return Array.from({ length: 6 }, (_, i) => {
    const angle = (Math.PI / 3) * i - Math.PI / 6;
    return `${(cx + r * Math.cos(angle)).toFixed(1)},${(cy + r * Math.sin(angle)).toFixed(1)}`;
  }).join(' ');
}

const BADGES: ((paint: string) => string)[] = [
  (paint) => `<circle cx="256" cy="256" r="224" ${paint}/>`,
  (paint) => `<rect x="32" y="32" width="448" height="448" rx="104" ${paint}/>`,
  (paint) => `<polygon points="${hexagon(256, 256, 232)}" ${paint}/>`,
  (paint) =>
    `<path d="M256 28 L 460 104 V 250 C 460 370 370 450 256 484 C 142 450 52 370 52 250 V 104 Z" ${paint}/>`,
];

// ——— Layouts ———

type Parts = {
  name: string;
  color1: string;
  color2: string;
  face: Typeface;
  icon: Icon;
  random: Random;
  gradient: string;
  badge: (paint: string) => string;
  useMonogram: boolean;
  mono: string;
};

type Layout = { name: string; width: number; height: number; draw: (p: Parts) => string };

const markIn = (p: Parts, color: string) =>
  p.useMonogram
    ? textEl(p.face, p.mono, 256, p.mono.length > 1 ? 306 : 318, p.mono.length > 1 ? 150 : 190, color)
    : p.icon.draw(color, p.random);

const LAYOUTS: Layout[] = [
  {
    name: 'stacked badge',
    width: 512,
    height: 640,
    draw: (p) =>
      [
        p.badge(`fill="url(#${p.gradient})"`),
        markIn(p, '#ffffff'),
        textEl(p.face, p.name, 256, 600, fitSize(p.face, p.name, 480, 60), p.color1),
      ].join(''),
  },
  {
    name: 'horizontal lockup',
    width: 1024,
    height: 384,
    draw: (p) =>
      [
        `<g transform="translate(32 32) scale(0.625)">${p.badge(`fill="url(#${p.gradient})"`)}${markIn(p, '#ffffff')}</g>`,
        textEl(p.face, p.name, 396, 218, fitSize(p.face, p.name, 580, 112), p.color1, 'start'),
        `<rect x="398" y="250" width="${Math.min(560, 40 + [...p.name].length * 18)}" height="10" rx="5" fill="${p.color2}"/>`,
      ].join(''),
  },
  {
    name: 'emblem',
    width: 512,
    height: 512,
    draw: (p) => {
      const ring = `ring-${p.gradient}`;
      const label = p.face.transform(p.name);
      const size = Math.min(44, fitSize(p.face, label, 520, 44));
      return [
        `<circle cx="256" cy="256" r="240" fill="url(#${p.gradient})"/>`,
        '<circle cx="256" cy="256" r="156" fill="#ffffff"/>',
        `<path id="${ring}" d="M 66 256 A 190 190 0 0 1 446 256" fill="none"/>`,
        `<text ${font(p.face, size, Math.max(2, p.face.letterSpacing))} fill="#ffffff"><textPath href="#${ring}" startOffset="50%" text-anchor="middle">${escapeXml(label)}</textPath></text>`,
        place(markIn(p, p.color1), 256, 262, 0.9),
        `<circle cx="92" cy="330" r="10" fill="#ffffff"/><circle cx="420" cy="330" r="10" fill="#ffffff"/>`,
      ].join('');
    },
  },
  {
    name: 'wordmark',
    width: 1024,
    height: 320,
    draw: (p) => {
      const size = fitSize(p.face, p.name, 880, 140);
      const baseline = 150 + size * 0.35;
      return [
        textEl(p.face, p.name, 512, baseline, size, `url(#${p.gradient})`),
        `<rect x="452" y="${Math.round(baseline + size * 0.32 + 12)}" width="120" height="12" rx="6" fill="${p.color2}"/>`,
      ].join('');
    },
  },
  {
    name: 'app icon',
    width: 512,
    height: 512,
    draw: (p) =>
      [
        `<rect x="16" y="16" width="480" height="480" rx="112" fill="${p.color1}"/>`,
        `<path d="M16 330 C 160 270 330 420 496 300 V 384 A 112 112 0 0 1 384 496 H 128 A 112 112 0 0 1 16 384 Z" fill="${p.color2}" opacity="0.9"/>`,
        markIn(p, '#ffffff'),
      ].join(''),
  },
  {
    name: 'outlined badge',
    width: 512,
    height: 640,
    draw: (p) =>
      [
        p.badge(`fill="none" stroke="url(#${p.gradient})" stroke-width="20"`),
        place(markIn(p, p.color1), 256, 256, 0.95),
        textEl(p.face, p.name, 256, 600, fitSize(p.face, p.name, 480, 56), p.color2),
      ].join(''),
  },
];

export const LOGO_LAYOUTS = LAYOUTS.map((layout) => layout.name);
export const LOGO_TYPEFACES = TYPEFACES.map((face) => face.name);

/** The item at `index`, wrapping around. */
const pick = <T>(items: readonly T[], index: number): T => items[index % items.length] as T;

function renderOne(request: LogoRequest, index: number): string {
  const random = seededRandom(`${request.seed}:${index}`);
  // A set walks the layouts and typefaces from a seeded start, so outputs differ within a set
  // and sets differ across generations.
  const start = seededRandom(request.seed);
  const layout = pick(LAYOUTS, start.int(0, LAYOUTS.length - 1) + index);
  const face = pick(TYPEFACES, start.int(0, TYPEFACES.length - 1) + index * 3);
  const icon = iconFor(request.appFocus, random, index);
  const useMonogram = layout.name !== 'wordmark' && random.int(0, 3) === 0;
  const gradient = `g${index}`;
  const parts: Parts = {
    name: request.appName,
    color1: request.color1,
    color2: request.color2,
    face,
    icon,
    random,
    gradient,
    badge: pick(BADGES, index + random.int(0, 3)),
    useMonogram,
    mono: monogram(request.appName),
  };
  const name = escapeXml(request.appName);
  const angle = random.int(0, 7) * 45;
  const description = `${layout.name} layout, ${face.name} type, ${useMonogram ? 'monogram' : `${icon.name} icon`}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="${name} logo">`,
    `<title>${name}</title>`,
    `<desc>${description}</desc>`,
    `<defs><linearGradient id="${gradient}" gradientTransform="rotate(${angle} 0.5 0.5)"><stop offset="0" stop-color="${request.color1}"/><stop offset="1" stop-color="${request.color2}"/></linearGradient></defs>`,
    layout.draw(parts),
    '</svg>',
  ].join('');
}

export function renderLogos(request: LogoRequest): string[] {
  return Array.from({ length: request.count }, (_, index) => renderOne(request, index));
}
