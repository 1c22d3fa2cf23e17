/**
 * Text from a remote server made safe to show: what a remote server writes
 * into an error (its `error` string, a certificate's names, a well-known
 * body quoted by a parser's message) ends up in logs and terminals.
 *
 * @module
 */

/**
 * Characters that change how text is shown rather than being shown: C0
 * controls (ESC starts ANSI escape sequences that recolour, move the cursor
 * or retitle a terminal; CR and LF forge log lines), DEL, C1 controls (U+009B
 * is a one-character CSI in some terminals), the Unicode line and paragraph
 * separators, and the bidirectional formatting characters that reorder what
 * a reader sees ("Trojan Source", CVE-2021-42574).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control and formatting character written as a `\uXXXX`
 * escape, cut to at most `maxLength` UTF-16 code units (a surrogate pair is
 * not split) with `…` marking the cut.
 *
 * @param text - text that may come from a remote server.
 * @param maxLength - the longest result, at least 1.
 */
export function printable(text: string, maxLength: number): string {
  // Cut before escaping too, so that a huge input is not escaped whole.
  const escaped = text
    .slice(0, maxLength + 1)
    .replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped.length <= maxLength && text.length <= maxLength) return escaped;
  let end = maxLength - 1;
  // A high surrogate at the cut would be left unpaired.
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${escaped.slice(0, end)}…`;
}
