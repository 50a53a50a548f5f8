/**
 * The readable output of the console commands: aligned tables whose cells are safe to print (a
 * job's type, keys, payload or error text cannot move the cursor, clear the screen or fake a line:
 * control characters are shown escaped) and times relative to now.
 */
import { ago } from '../admin/doctor';

/** Control characters (C0, DEL, C1) and the Unicode line and bidi controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A value as one line of text: control characters as escapes (\n, \u001b…), cut to `max` characters. */
export function cell(value: unknown, max = 60): string {
  if (value === null || value === undefined) return '';
  const text = (typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : String(value)).replace(CONTROL, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  const characters = [...text];
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

/** Rows under a header, columns aligned (widths in characters), two spaces apart; `(none)` for no rows. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)\n';
  const width = (text: string) => [...text].length;
  const widths = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ''))));
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value + ' '.repeat(widths[i] - width(value))))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** "in 5 s", "3 min ago", or "now". */
export function relative(date: Date | null, now = Date.now()): string {
  if (!date) return '';
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 1_000) return 'now';
  return delta > 0 ? `in ${ago(delta, false)}` : ago(-delta);
}

/** Labelled lines, labels aligned: `label  value`. */
export function fields(entries: [string, string][]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n';
}

/** JSON for --json: Dates as ISO-8601 text, two-space indents. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Several lines (a stack, pretty-printed JSON): each line made safe as `cell` does, none cut, indented. */
export function block(text: string, indent = '    '): string {
  return `${text
    .split('\n')
    .map((line) => indent + cell(line, Number.POSITIVE_INFINITY))
    .join('\n')}\n`;
}
