import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // The harness and the Kubernetes objects are untyped JSON by nature.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
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
