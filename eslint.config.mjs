// Lint: typescript-eslint's recommended rules, and the architecture map of docs/design/architecture.md
// enforced as import rules: no import cycle anywhere, and no import across layers that the map forbids.
// Runs in `npm test` (scripts/test.mjs) and as `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

// The floors of src/core, lowest first. A file may import its own floor and the floors below it.
// (Each entry: what a folder or file may NOT import.) See docs/design/architecture.md.
const GROUND = ['address', 'hostname', 'errors', 'said', 'redact', 'version', 'text'].map((f) => `./src/core/${f}.ts`);
const SHARED = ['http', 'retry', 'schedule', 'alert-latch', 'store', 'warn-once'].map((f) => `./src/core/${f}.ts`);
const UPPER = ['ip', 'dns', 'providers', 'update', 'reach', 'acme'].map((d) => `./src/core/${d}`);

const zones = [
  // core never imports Node-RED adapters, tests or benchmarks
  {
    target: './src/core',
    from: './src/nodes',
    message: 'src/core imports nothing from src/nodes (core is Node-RED-free).',
  },
  { target: './src', from: ['./test', './bench'], message: 'shipped code never imports tests or benchmarks.' },
  // the ground floor imports no other floor
  ...GROUND.map((target) => ({
    target,
    from: [...UPPER, ...SHARED, './src/nodes'],
    message: 'the ground floor (address, hostname, errors, said, redact, version, text) imports only itself.',
  })),
  // shared pieces import only the ground floor (and each other)
  ...SHARED.map((target) => ({
    target,
    from: UPPER,
    message: 'shared core pieces import only the ground floor and each other.',
  })),
  // the floors of core, each with what it may not import
  {
    target: './src/core/dns',
    from: ['./src/core/ip', './src/core/providers', './src/core/update', './src/core/reach', './src/core/acme'],
    message: 'dns/ sits on the ground floor and shared pieces only.',
  },
  {
    target: './src/core/ip',
    from: ['./src/core/providers', './src/core/update', './src/core/reach', './src/core/acme'],
    message: 'ip/ (detection) may use dns/ but nothing above it.',
  },
  {
    target: './src/core/providers',
    from: ['./src/core/ip', './src/core/update', './src/core/reach', './src/core/acme'],
    message: 'providers/ may use dns/ but nothing above it.',
  },
  {
    target: './src/core/update',
    from: ['./src/core/ip', './src/core/reach', './src/core/acme'],
    message: 'update/ sits on providers/, dns/ and below.',
  },
  {
    target: './src/core/reach',
    from: ['./src/core/ip', './src/core/providers', './src/core/update', './src/core/acme'],
    message: 'reach/ sits on dns/ and below.',
  },
  {
    target: './src/core/acme',
    from: ['./src/core/ip'],
    message: "acme/ sits on providers/, update/ (accounts), reach/ (HTTP-01's check), dns/ and below.",
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.cache/**',
      '.node-red/**',
      'test-output/**',
      'nodes/**',
      'examples/**',
      'icons/**',
      'docs/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Editor code shared by the nodes' dialogs (served from resources/): a browser script.
    files: ['resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', $: 'readonly', RED: 'readonly' } },
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-self-import': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // Node-RED's own idiom in a node's constructor: `const node = this`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      '@typescript-eslint/no-empty-function': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
