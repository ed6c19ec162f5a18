/**
 * The owner's accent colour: WCAG 2 contrast, and the shades the pages use in the light and the
 * dark scheme so links and buttons stay readable in both. Pure: no I/O.
 */

/** `#rrggbb`, lower case. */
export const HEX_COLOUR = /^#[0-9a-f]{6}$/;

/** What WCAG 2 (1.4.3, AA) asks of normal-size text. */
export const MIN_CONTRAST = 4.5;

/** The backgrounds of static/css/app.css the accent is read against (keep in step with it). */
const WHITE = '#ffffff';
const BLACK = '#000000';
const LIGHT_BG = '#f6f5f2';
const DARK_BG = '#17181b';
const DARK_CARD = '#22242a';
/** The dark scheme's text on an accent button. */
const DARK_ON_ACCENT = '#0b1730';

type Rgb = readonly [number, number, number];

function rgb(hex: string): Rgb {
  if (!HEX_COLOUR.test(hex)) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

function hex(c: Rgb): string {
  return `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

/** An sRGB channel (0–255) as linear light. */
function linear(v: number): number {
  const s = v / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2 relative luminance (sRGB, 0 for black to 1 for white). */
export function relativeLuminance(colour: string): number {
  const [r, g, b] = rgb(colour);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2 contrast ratio of two colours, from 1 to 21 (order does not matter). */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** `from` moved a fraction `t` (0–1) of the way towards `to`. */
export function mix(from: string, to: string, t: number): string {
  const [r1, g1, b1] = rgb(from);
  const [r2, g2, b2] = rgb(to);
  return hex([r1 + (r2 - r1) * t, g1 + (g2 - g1) * t, b1 + (b2 - b1) * t]);
}

/** Whether white button text on this accent is readable (the rule the settings form applies). */
export function readableUnderWhiteText(accent: string): boolean {
  return contrastRatio(accent, WHITE) >= MIN_CONTRAST;
}

/** The colour moved towards `towards` in 5 % steps until it reads on every background (the end point always does). */
function readableOn(colour: string, backgrounds: readonly string[], towards: string): string {
  for (let step = 0; step <= 20; step++) {
    const c = mix(colour, towards, step / 20);
    if (backgrounds.every((bg) => contrastRatio(c, bg) >= MIN_CONTRAST)) return c;
  }
  return towards;
}

/** The custom properties of one colour scheme. */
export interface AccentShades {
  /** Button and highlight backgrounds, borders. */
  readonly accent: string;
  /** Text on `accent` (buttons). */
  readonly accentFg: string;
  /** Links and other text in the accent colour, on the page, a card or `accentSoft`. */
  readonly accentText: string;
  /** Tinted backgrounds (notices, hover). */
  readonly accentSoft: string;
}

/**
 * The shades for both schemes. Light: the owner's colour itself under white text (the form
 * checked it), a pale tint, and for text a shade darkened until it reads on the page's off-white
 * background and on the tint. Dark: a shade lightened until it reads on the dark page and card,
 * under dark button text.
 */
export function accentShades(accent: string): { readonly light: AccentShades; readonly dark: AccentShades } {
  const lightSoft = mix(WHITE, accent, 0.12);
  const darkSoft = mix(DARK_CARD, accent, 0.25);
  const darkAccent = readableOn(accent, [DARK_BG, DARK_CARD, darkSoft], WHITE);
  return {
    light: { accent, accentFg: WHITE, accentText: readableOn(accent, [WHITE, LIGHT_BG, lightSoft], BLACK), accentSoft: lightSoft },
    dark: {
      accent: darkAccent,
      accentFg: contrastRatio(darkAccent, DARK_ON_ACCENT) >= MIN_CONTRAST ? DARK_ON_ACCENT : BLACK,
      accentText: darkAccent,
      accentSoft: darkSoft,
    },
  };
}

function declarations(s: AccentShades): string {
  return `--accent: ${s.accent}; --accent-fg: ${s.accentFg}; --accent-text: ${s.accentText}; --accent-soft: ${s.accentSoft};`;
}

/** The style sheet served after app.css when the owner chose an accent. */
export function accentStyleSheet(accent: string): string {
  const { light, dark } = accentShades(accent);
  return `:root { ${declarations(light)} }\n@media (prefers-color-scheme: dark) {\n  :root { ${declarations(dark)} }\n}\n`;
}
