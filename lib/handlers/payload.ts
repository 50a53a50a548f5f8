import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';

/**
 * Serialises a payload to JSON, refusing what JSON would silently change or cannot hold:
 * BigInt, functions, symbols, cycles, non-finite numbers, invalid Dates, Map/Set, undefined at the
 * top level or in an array, and NUL characters (PostgreSQL's jsonb cannot store \u0000).
 * Returns the JSON text, or the list of problems (each with its path, e.g. `payload.items[2]`).
 */
export function toJson(payload: unknown): { json: string } | { problems: string[] } {
  const problems: string[] = [];
  if (payload === undefined) return { problems: ['payload is undefined; pass a JSON value (use null or {} for "nothing")'] };
  walk(payload, 'payload', new Set(), problems);
  if (problems.length) return { problems };
  return { json: JSON.stringify(payload) };
}

function walk(value: unknown, path: string, ancestors: Set<object>, problems: string[]): void {
  if (problems.length >= 10) return;
  switch (typeof value) {
    case 'bigint':
      problems.push(`${path} is a BigInt, which JSON cannot hold; pass it as a string or a number`);
      return;
    case 'function':
      problems.push(`${path} is a function; payloads must be plain JSON data`);
      return;
    case 'symbol':
      problems.push(`${path} is a symbol; payloads must be plain JSON data`);
      return;
    case 'number':
      if (!Number.isFinite(value)) problems.push(`${path} is ${value}, which JSON turns into null; pass a finite number`);
      return;
    case 'string':
      if (value.includes('\u0000')) problems.push(`${path} contains a NUL character (\\u0000), which PostgreSQL cannot store in JSON; remove it or encode the string (e.g. base64)`);
      return;
    case 'undefined':
      // Only reached for array items: JSON turns them into null. (Undefined properties are dropped, as JSON does.)
      problems.push(`${path} is undefined, which JSON turns into null in an array; pass null`);
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null) return;
  if (value instanceof Map || value instanceof Set) {
    problems.push(`${path} is a ${value instanceof Map ? 'Map' : 'Set'}, which JSON turns into {}; pass an object or an array`);
    return;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) problems.push(`${path} is an invalid Date, which JSON turns into null`);
    return;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return; // they choose their own JSON
  if (ancestors.has(value)) {
    problems.push(`${path} refers back to one of its parents (a cycle); JSON cannot hold cycles`);
    return;
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, ancestors, problems));
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue; // dropped by JSON, as everywhere else
      const itemPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (key.includes('\u0000')) problems.push(`${itemPath}: the key contains a NUL character (\\u0000), which PostgreSQL cannot store in JSON`);
      walk(item, itemPath, ancestors, problems);
    }
  }
  ancestors.delete(value);
}

/**
 * Turns a plain payload into an instance of the handler's DTO and validates it with
 * class-validator. Returns the instance, or the validation messages.
 */
export async function toDto(
  dto: new (...args: any[]) => object,
  plain: unknown,
): Promise<{ value: object } | { problems: string[] }> {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { problems: [`payload must be an object to become a ${dto.name}, got ${plain === null ? 'null' : Array.isArray(plain) ? 'an array' : typeof plain}`] };
  }
  const instance = plainToInstance(dto, plain);
  const errors = await validate(instance, { forbidUnknownValues: true });
  if (errors.length === 0) return { value: instance };
  return { problems: flatten(errors, 'payload') };
}

function flatten(errors: ValidationError[], parent: string): string[] {
  return errors.flatMap((error) => {
    const path = `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
