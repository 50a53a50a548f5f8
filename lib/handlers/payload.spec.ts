import { IsEmail, IsInt, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { toDto, toJson } from './payload';

class Address {
  @IsEmail()
  email!: string;
}

class Dto {
  @IsInt()
  @Min(1)
  clientId!: number;

  @ValidateNested()
  @Type(() => Address)
  address!: Address;
}

describe('toJson', () => {
  it('accepts plain JSON data and Dates', () => {
    const when = new Date('2026-01-02T03:04:05.000Z');
    expect(toJson({ a: [1, 'x', null, true], when })).toEqual({ json: '{"a":[1,"x",null,true],"when":"2026-01-02T03:04:05.000Z"}' });
    expect(toJson(null)).toEqual({ json: 'null' });
  });

  it.each([
    ['a BigInt', { id: 10n }, 'payload.id is a BigInt'],
    ['a function', { run: () => 1 }, 'payload.run is a function'],
    ['a symbol', { s: Symbol('x') }, 'payload.s is a symbol'],
    ['NaN', { n: NaN }, 'payload.n is NaN'],
    ['a Map', { m: new Map() }, 'payload.m is a Map'],
    ['undefined at the top level', undefined, 'payload is undefined'],
    ['a nested array item', { items: [1, 2n] }, 'payload.items[1] is a BigInt'],
    ['undefined in an array', { items: [1, undefined] }, 'payload.items[1] is undefined'],
    ['an invalid Date', { at: new Date('nope') }, 'payload.at is an invalid Date'],
    ['a NUL character', { name: 'a\u0000b' }, 'payload.name contains a NUL character'],
  ])('refuses %s, naming where it is', (_what, payload, message) => {
    const result = toJson(payload);
    expect('problems' in result && result.problems[0]).toContain(message);
  });

  it('refuses cycles', () => {
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    const result = toJson({ node });
    expect('problems' in result && result.problems[0]).toContain('payload.node.self refers back to one of its parents');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(toJson({ a: shared, b: shared })).toEqual({ json: '{"a":{"x":1},"b":{"x":1}}' });
  });
});

describe('toDto', () => {
  it('returns an instance of the DTO, nested types included', async () => {
    const result = await toDto(Dto, { clientId: 3, address: { email: 'a@example.com' } });
    expect('value' in result && result.value).toBeInstanceOf(Dto);
    expect('value' in result && (result.value as Dto).address).toBeInstanceOf(Address);
  });

  it('returns the class-validator messages with their paths', async () => {
    const result = await toDto(Dto, { clientId: 0, address: { email: 'nope' } });
    expect('problems' in result && result.problems).toEqual([
      'payload.clientId: clientId must not be less than 1',
      'payload.address.email: email must be an email',
    ]);
  });

  it('refuses a payload that is not an object', async () => {
    expect(await toDto(Dto, [1])).toEqual({ problems: ['payload must be an object to become a Dto, got an array'] });
  });
});
