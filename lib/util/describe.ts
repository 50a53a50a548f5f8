/**
 * Small helpers for option checks and error texts: `describe()` names a value in a message without
 * printing it whole, `definedOnly()` drops the keys of an options object that are set to undefined.
 */

/** The keys of an options object whose value is not undefined (so `{ maxMs: undefined }` keeps the default). */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A short name for a value in an error message: strings quoted, objects and functions by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
