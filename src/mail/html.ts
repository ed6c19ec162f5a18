/**
 * The HTML part of a message, derived from its plain text so both always say the same thing:
 * escaped, paragraphs from blank lines, line breaks kept, http(s) links made clickable. No
 * image, no style sheet, nothing loaded from anywhere.
 */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

function linkify(line: string): string {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(LINK)) {
    const at = m.index;
    out += `${escape(line.slice(last, at))}<a href="${escape(m[0])}">${escape(m[0])}</a>`;
    last = at + m[0].length;
  }
  return out + escape(line.slice(last));
}

/** A complete, minimal HTML document for the given plain text, under the business's name when given. */
export function htmlFromText(text: string, heading: string | null = null): string {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => `<p>${p.split('\n').map(linkify).join('<br>\n')}</p>`);
  const title = heading === null ? '' : `<p style="font-size:1.25em;font-weight:bold">${escape(heading)}</p>\n`;
  return `<!doctype html>\n<html><head><meta charset="utf-8"></head><body style="font-family:sans-serif;line-height:1.5">\n${title}${paragraphs.join('\n')}\n</body></html>\n`;
}
