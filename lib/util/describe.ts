/**
 * Small helpers for option checks and error texts: `describe()` names a value in a message without
 * printing it whole, `definedOnly()` drops the keys of an options object that are set to undefined.
 */

/** The keys of an options object whose value is not undefined (so `{ maxMs: undefined }` keeps the default). */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A short name for a value in an error message: strings quoted (long ones cut, never inside a character), objects and functions by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const characters = codePoints(value);
    if (characters <= 80) return JSON.stringify(value);
    return `${JSON.stringify([...value].slice(0, 40).join(''))}… (${characters} characters)`;
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Length in Unicode code points, as PostgreSQL's and MariaDB's VARCHAR count it (JavaScript's `length` counts UTF-16 units: an emoji is 2). */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
