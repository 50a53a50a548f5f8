// Compiles the compile-time fixtures of test/types with the TypeScript compiler API and checks what
// the errors say. A `// @ts-expect-error` alone passes whatever the error is; here every one carries
// the text its error must have:
//
//   // @ts-expect-error Argument of type '{}' is not assignable ... Property 'clientId' is missing
//   await outbox.enqueue(tx, 'sendClientLoginLink', {});
//
// The first error reported on the next line (the one tsc prints first) must contain the first
// fragment (fragments are joined by " ... ") in its first line, and all the fragments in that order
// in its whole message. Lines without a marker must compile.
//
// *.typecheck.ts files compile together with the sample's job map (they are also part of
// `npm run typecheck`, where the markers work as plain @ts-expect-error); untyped-app.ts.txt
// compiles as untyped-app.ts in a program of its own, without any job map.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const HERE = __dirname;
const MARKER = /^\s*\/\/ @ts-expect-error(.*)$/;

interface Fixture {
  /** The file name the compiler sees. */
  fileName: string;
  /** Its text, `@ts-expect-error` neutralised (same length, so positions do not move). */
  text: string;
  markers: Marker[];
}

interface Marker {
  /** 1-based line of the code the marker is about. */
  line: number;
  expected: string;
}

function loadFixture(file: string, fileName = join(HERE, file)): Fixture {
  const source = readFileSync(join(HERE, file), 'utf8');
  const markers: Marker[] = [];
  source.split('\n').forEach((text, index) => {
    const match = MARKER.exec(text);
    if (match) markers.push({ line: index + 2, expected: match[1].trim() });
  });
  return { fileName, text: source.replace(/\/\/ @ts-expect-error/g, '// ~ts-expect-error'), markers };
}

const typed = readdirSync(HERE)
  .filter((file) => file.endsWith('.typecheck.ts'))
  .sort()
  .map((file) => loadFixture(file));
const untyped = [loadFixture('untyped-app.ts.txt', join(HERE, 'untyped-app.ts'))];

const options = (() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return parsed.options;
})();

/** Source files parsed once for both programs (lib, node_modules, the sample). */
const parsed = new Map<string, ts.SourceFile>();

function compile(fixtures: Fixture[]): ts.Program {
  const texts = new Map(fixtures.map((fixture) => [resolve(fixture.fileName), fixture.text]));
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (fileName) => texts.has(resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => texts.get(resolve(fileName)) ?? readFile(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = texts.get(resolve(fileName));
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    let file = parsed.get(fileName);
    if (!file) {
      file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (file) parsed.set(fileName, file);
    }
    return file;
  };
  return ts.createProgram({ rootNames: fixtures.map((fixture) => fixture.fileName), options, host });
}

interface Reported {
  line: number;
  code: number;
  headline: string;
  message: string;
}

function errorsOf(program: ts.Program, fixture: Fixture): Reported[] {
  const file = program.getSourceFile(fixture.fileName);
  if (!file) throw new Error(`${fixture.fileName} is not in the program`);
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
    .sort((a, b) => (a.start ?? 0) - (b.start ?? 0))
    .map((diagnostic) => ({
      line: file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1,
      code: diagnostic.code,
      headline: typeof diagnostic.messageText === 'string' ? diagnostic.messageText : diagnostic.messageText.messageText,
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
    }));
}

/** Why `reported` does not match `expected`, or undefined when it does. */
function mismatch(expected: string, reported: Reported | undefined): string | undefined {
  if (!expected) return 'the marker has no expected text (a bare @ts-expect-error passes whatever the error is)';
  if (!reported) return 'no error on this line';
  const [first, ...rest] = expected.split(' ... ');
  if (!reported.headline.includes(first)) return `the first line of the first error does not contain: ${first}`;
  let from = reported.message.indexOf(first) + first.length;
  for (const fragment of rest) {
    const at = reported.message.indexOf(fragment, from);
    if (at < 0) return `the error does not contain, after the text before it: ${fragment}`;
    from = at + fragment.length;
  }
  return undefined;
}

function describeFixtures(title: string, fixtures: Fixture[]): void {
  describe(title, () => {
    let errors: Map<Fixture, Reported[]>;

    beforeAll(() => {
      const program = compile(fixtures);
      const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
      if (global.length) throw new Error(ts.formatDiagnostics(global, ts.createCompilerHost(options)));
      errors = new Map(fixtures.map((fixture) => [fixture, errorsOf(program, fixture)]));
    }, 60_000);

    for (const fixture of fixtures) {
      const name = fixture.fileName.slice(HERE.length + 1);

      it.each(fixture.markers.map((marker) => [`${name}:${marker.line}`, marker] as const))('%s', (_, marker) => {
        const reported = errors.get(fixture)!.find((error) => error.line === marker.line);
        const problem = mismatch(marker.expected, reported);
        expect(problem && `${problem}\nreported: ${reported ? `TS${reported.code}: ${reported.message}` : 'nothing'}`).toBeUndefined();
      });

      it(`${name}: no errors on the lines without a marker`, () => {
        const marked = new Set(fixture.markers.map((marker) => marker.line));
        const unexpected = errors
          .get(fixture)!
          .filter((error) => !marked.has(error.line))
          .map((error) => `${name}:${error.line} TS${error.code}: ${error.message}`);
        expect(unexpected).toEqual([]);
      });
    }
  });
}

describeFixtures('with the sample job map', typed);
describeFixtures('without a job map', untyped);
