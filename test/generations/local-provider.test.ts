// The built-in provider generates for real: valid, distinct, deterministic SVG logos and text
// that names the prompt's subject.
import { describe, expect, it } from 'vitest';
import {
  LOGO_LAYOUTS,
  LOGO_TYPEFACES,
  monogram,
  renderLogos,
} from '../../server/modules/generations/providers/local/logo-svg.ts';
import { generateText, subjectOf } from '../../server/modules/generations/providers/local/text.ts';

const request = {
  appName: 'Pixel <Forge>',
  appFocus: 'photo editing',
  color1: '#4f46e5',
  color2: '#f59e0b',
  seed: 'gen-1',
};

describe('local logo renderer', () => {
  it('renders the requested number of distinct SVG documents with the name, escaped', () => {
    const svgs = renderLogos({ ...request, count: 4 });
    expect(svgs).toHaveLength(4);
    expect(new Set(svgs).size).toBe(4);
    for (const svg of svgs) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.endsWith('</svg>')).toBe(true);
      expect(svg).toContain('Pixel &#60;Forge&#62;');
      expect(svg).not.toContain('<Forge>');
      expect(svg).toContain('#4f46e5');
      expect(svg).toContain('#f59e0b');
    }
  });

  it('is deterministic per seed and differs across seeds', () => {
    expect(renderLogos({ ...request, count: 2 })).toEqual(renderLogos({ ...request, count: 2 }));
    expect(renderLogos({ ...request, count: 1, seed: 'gen-2' })).not.toEqual(
      renderLogos({ ...request, count: 1 }),
    );
  });

  it('varies a set in layout, typography and icon, with icons from the subject of the focus', () => {
    const descriptions = renderLogos({ ...request, appFocus: 'personal finance', count: 8 }).map(
      (svg) => /<desc>(.+?) layout, (.+?) type, (.+?)<\/desc>/.exec(svg)?.slice(1) ?? [],
    );
    const layouts = new Set(descriptions.map(([layout]) => layout));
    const faces = new Set(descriptions.map(([, face]) => face));
    const marks = new Set(descriptions.map(([, , mark]) => mark));
    expect(layouts).toEqual(new Set(LOGO_LAYOUTS));
    expect(faces.size).toBeGreaterThanOrEqual(6);
    for (const face of faces) expect(LOGO_TYPEFACES).toContain(face);
    expect(marks.size).toBeGreaterThanOrEqual(3);
    // Most marks come from the finance icon set (bars, trend, coin); some are abstract or monograms.
    const finance = descriptions.filter(([, , mark]) => /^(bars|trend|coin) icon$/.test(mark ?? ''));
    expect(finance.length).toBeGreaterThanOrEqual(3);
  });

  it('builds monograms from the first letters of up to two words', () => {
    expect(monogram('Pixel Forge Studio')).toBe('PF');
    expect(monogram('forgeline')).toBe('F');
    expect(monogram('ünicode app')).toBe('ÜA');
  });
});

describe('local text generator', () => {
  it('writes text about the prompt subject and counts tokens', () => {
    const result = generateText({
      kind: 'text',
      prompt: 'Write a launch plan for a budgeting app',
      seed: 's',
    });
    expect(subjectOf('Write a launch plan for a budgeting app')).toBe('launch plan budgeting app');
    expect(result.text).toContain('launch plan budgeting app');
    expect(result.tokensUsed).toBeGreaterThan(10);
    expect(
      generateText({ kind: 'text', prompt: 'Write a launch plan for a budgeting app', seed: 's' }),
    ).toEqual(result);
  });

  it('writes code shaped by the agent type', () => {
    const database = generateText({
      kind: 'code',
      prompt: 'recipe sharing',
      agentType: 'database',
      seed: 's',
    });
    expect(database.text).toContain('create table recipe_sharing');
    const frontend = generateText({
      kind: 'code',
      prompt: 'recipe sharing',
      agentType: 'frontend',
      seed: 's',
    });
    expect(frontend.text).toContain('function RecipeSharingList');
  });
});
