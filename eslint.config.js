import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['node_modules/**', 'coverage/**'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  rules: {
    // The harness and the Kubernetes objects are untyped JSON by nature.
    '@typescript-eslint/no-explicit-any': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  },
});
