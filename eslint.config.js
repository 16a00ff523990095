// Lint rules: typescript-eslint's recommended type-aware set, React hooks rules, and the
// module map's dependency rule for every folder, with no import cycles (scripts/eslintLayers.mjs).
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { layersPlugin } from './scripts/eslintLayers.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'docs/screenshots/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The layer table (scripts/eslintLayers.mjs, drawn in docs/ARCHITECTURE.md): each folder
    // imports only the folders below it and the packages it may use, and no file cycle forms.
    files: ['src/**/*.{ts,tsx}', 'server/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/direction': 'error', 'layers/no-cycle': 'error' },
  },
);
