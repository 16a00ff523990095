// Lint rules: typescript-eslint's recommended type-aware set, React hooks rules, and the
// module map's one-way dependency rules (src/gpu imports nothing else of the project; server/
// never imports the Node entry points).
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

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
    // src/gpu must run in a worker, a tab or Node: no React, no networking, no other layers.
    files: ['src/gpu/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!../gpu/*'], message: 'src/gpu imports nothing from outside src/gpu (see docs/ARCHITECTURE.md).' },
            { group: ['react', 'react-dom', 'simple-peer', 'ws', '@polkadot/*'], message: 'src/gpu stays free of UI and networking.' },
          ],
        },
      ],
    },
  },
  {
    // Lower layers never reach up into the app.
    files: ['src/p2p/**/*.ts', 'src/wallet/**/*.ts', 'src/train/**/*.ts', 'src/compress/**/*.ts', 'src/protocol/**/*.ts', 'src/validator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../ui/*', 'react', 'react-dom'], message: 'only src/ui may use React (see docs/ARCHITECTURE.md).' }] },
      ],
    },
  },
  {
    // server/ is a library of HTTP and signaling that the Node entry points assemble
    // (src/node/serve.ts is `tessera serve`): it never imports them, so no cycle can form.
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../src/node/*', '../src/ui/*', 'react', 'react-dom'],
              message: 'server/ imports neither the Node entry points nor the app (see docs/ARCHITECTURE.md).',
            },
          ],
        },
      ],
    },
  },
);
