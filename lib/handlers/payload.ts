import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';

/**
 * How deep a payload may nest (objects and arrays; `{ a: 1 }` is 1 level), per database: what its
 * JSON type stores through Doctor Job's insert (measured: MariaDB refuses 30 levels, SQLite 999;
 * PostgreSQL takes more, but 1,000 keeps serialisation and DTO validation far from Node's stack limit).
 */
export const MAX_PAYLOAD_DEPTH = { postgresql: 1_000, sqlite: 998, mysql: 29 } as const;

/**
 * Serialises a payload to JSON, refusing what JSON would silently change or cannot hold:
 * BigInt, functions, symbols, cycles, non-finite numbers, invalid Dates, Map/Set, undefined at the
 * top level or in an array, NUL characters (PostgreSQL's jsonb cannot store \u0000), and nesting
 * deeper than `maxDepth` levels (checked without recursion, so any depth gets this error).
 * Returns the JSON text, or the list of problems (each with its path, e.g. `payload.items[2]`).
 */
export function toJson(payload: unknown, maxDepth: number = MAX_PAYLOAD_DEPTH.postgresql): { json: string } | { problems: string[] } {
  const problems: string[] = [];
  if (payload === undefined) return { problems: ['payload is undefined; pass a JSON value (use null or {} for "nothing")'] };
  // Most payloads are plain data: one quick pass without paths or frames says so; anything it
  // does not vouch for (a problem, or only something unusual) gets the full walk and its messages.
  if (isPlainJson(payload, 0, maxDepth)) return { json: JSON.stringify(payload) };
  walk(payload, maxDepth, problems);
  if (problems.length) return { problems };
  return { json: JSON.stringify(payload) };
}

/**
 * True when `value` (inside `depth` containers) is JSON that `walk` would find no problem in:
 * strings without NUL, finite numbers, booleans, null, valid Dates and plain arrays and objects
 * of those, at most `maxDepth` deep. False for anything else, problem or not (the walk decides).
 * Recursive, but never deeper than maxDepth (at most 1,000): a cycle ends at that depth too.
 */
function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000');
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth + 1 > maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1, maxDepth)) return false;
    return true;
  }
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (value instanceof Map || value instanceof Set || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined && (key.includes('\u0000') || !isPlainJson(item, depth + 1, maxDepth))) return false;
  }
  return true;
}

/** A value to look at, inside `depth` objects or arrays; or the end of a container (it stops being an ancestor). */
type Frame = { value: unknown; path: string; depth: number } | { leave: object };

/** Depth-first over the payload with a stack of its own, reporting problems in document order (at most 10). */
function walk(root: unknown, maxDepth: number, problems: string[]): void {
  const stack: Frame[] = [{ value: root, path: 'payload', depth: 0 }];
  const ancestors = new Set<object>();
  while (stack.length > 0 && problems.length < 10) {
    const frame = stack.pop()!;
    if ('leave' in frame) {
      ancestors.delete(frame.leave);
      continue;
    }
    const { value, path, depth } = frame;
    if (!isContainer(value, path, problems)) continue;
    if (ancestors.has(value)) {
      problems.push(`${path} refers back to one of its parents (a cycle); JSON cannot hold cycles`);
      continue;
    }
    if (depth + 1 > maxDepth) {
      problems.push(`${shorten(path)} is nested deeper than ${maxDepth} levels, the most this database's JSON holds through Doctor Job; flatten the payload (or store the deep part as a string)`);
      return;
    }
    ancestors.add(value);
    stack.push({ leave: value });
    const children: Frame[] = [];
    if (Array.isArray(value)) {
      value.forEach((item, index) => children.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
    } else {
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue; // dropped by JSON, as everywhere else
        const itemPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
        if (key.includes('\u0000')) problems.push(`${itemPath}: the key contains a NUL character (\\u0000), which PostgreSQL cannot store in JSON`);
        children.push({ value: item, path: itemPath, depth: depth + 1 });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

/**
 * Checks a scalar (or a value JSON writes in a way of its own); true when `value` is an object or
 * array whose contents are to be walked.
 */
function isContainer(value: unknown, path: string, problems: string[]): value is object {
  switch (typeof value) {
    case 'bigint':
      problems.push(`${path} is a BigInt, which JSON cannot hold; pass it as a string or a number`);
      return false;
    case 'function':
      problems.push(`${path} is a function; payloads must be plain JSON data`);
      return false;
    case 'symbol':
      problems.push(`${path} is a symbol; payloads must be plain JSON data`);
      return false;
    case 'number':
      if (!Number.isFinite(value)) problems.push(`${path} is ${value}, which JSON turns into null; pass a finite number`);
      return false;
    case 'string':
      if (value.includes('\u0000')) problems.push(`${path} contains a NUL character (\\u0000), which PostgreSQL cannot store in JSON; remove it or encode the string (e.g. base64)`);
      return false;
    case 'undefined':
      // Only reached for array items: JSON turns them into null. (Undefined properties are dropped, as JSON does.)
      problems.push(`${path} is undefined, which JSON turns into null in an array; pass null`);
      return false;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return false;
  if (value instanceof Map || value instanceof Set) {
    problems.push(`${path} is a ${value instanceof Map ? 'Map' : 'Set'}, which JSON turns into {}; pass an object or an array`);
    return false;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) problems.push(`${path} is an invalid Date, which JSON turns into null`);
    return false;
  }
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function'; // those choose their own JSON
}

/** A path of a deeply nested value, cut to its first and last characters. */
function shorten(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 40)}…${path.slice(-30)}`;
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
