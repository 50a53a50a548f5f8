/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: '.*\\.spec\\.ts$',
  moduleFileExtensions: ['js', 'json', 'ts'],
  // swc compiles TypeScript with Nest's decorator metadata, and compiles the ES modules of
  // @nestjs/* (NestJS 12 ships ES modules only) to CommonJS, which Jest's module system needs.
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs)/)'],
  // A fresh SQLite file for the run, migrated before any test file starts.
  globalSetup: '<rootDir>/test/global-setup.ts',
};
