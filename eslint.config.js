import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import local from './scripts/eslint/no-import-cycle.js';

/**
 * no-restricted-imports from rules of [message, ...import patterns]. A file gets one option list per
 * rule name (a later block replaces an earlier one), so blocks that overlap repeat the rules they share.
 */
const forbid = (...rules) => [
  'error',
  { patterns: rules.flatMap(([message, ...groups]) => groups.map((group) => ({ group: [group], message }))) },
];
const NO_ML_SERVER = ['The Content Bridge does not import the ML Server; share code through services/kit', '**/ml-server/**'];
const NO_CONTENT_BRIDGE = ['The ML Server does not import the Content Bridge; share code through services/kit', '**/content-bridge/**'];
const NO_REPOSITORY = ["A routes.ts reaches the SQL through its module's service.ts, not the repository", '**/repository.ts'];

/** A query call whose first argument is SQL text written in place (a string or a template). */
const SQL_TEXT = "[arguments.0.type='Literal'], [arguments.0.type='TemplateLiteral']";

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { local },
    rules: {
      // The harness and the Kubernetes objects are untyped JSON by nature.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'local/no-import-cycle': 'error',
    },
  },
  // Boundaries. tests/ may import anything.
  {
    files: ['operator/specs/**'],
    rules: {
      'no-restricted-imports': forbid([
        'operator/specs builds the desired state as pure functions: it imports neither the Kubernetes client nor the reconciler',
        '**/kube/**',
        '**/reconcile/**',
      ]),
    },
  },
  {
    files: ['services/kit/**'],
    rules: {
      'no-restricted-imports': forbid([
        'The service kit is shared by both APIs and imports neither',
        '**/content-bridge/**',
        '**/ml-server/**',
      ]),
    },
  },
  {
    files: ['services/content-bridge/**'],
    rules: {
      'no-restricted-imports': forbid(NO_ML_SERVER),
    },
  },
  {
    files: ['services/ml-server/**'],
    rules: {
      'no-restricted-imports': forbid(NO_CONTENT_BRIDGE),
    },
  },
  {
    // Layers inside a module: routes.ts speaks HTTP, service.ts holds the flow, repository.ts the SQL.
    files: ['services/**/routes.ts', 'services/**/service.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `CallExpression:matches([callee.name='query'], [callee.property.name='query']):matches(${SQL_TEXT})`,
          message: "SQL belongs in the module's repository.ts: routes.ts handles HTTP and service.ts the flow",
        },
      ],
    },
  },
  { files: ['services/content-bridge/**/routes.ts'], rules: { 'no-restricted-imports': forbid(NO_ML_SERVER, NO_REPOSITORY) } },
  { files: ['services/ml-server/**/routes.ts'], rules: { 'no-restricted-imports': forbid(NO_CONTENT_BRIDGE, NO_REPOSITORY) } },
  {
    // Client scripts piped into `node` in a plain node:24-slim pod (tests/node): JavaScript with Node's globals.
    files: ['tests/node/support/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'AbortController',
          'AbortSignal',
          'Blob',
          'Buffer',
          'FormData',
          'Headers',
          'URL',
          'console',
          'fetch',
          'performance',
          'process',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
