import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Library kinds and what each may import (CONVENTIONS.md). Enforced by @nx/enforce-module-boundaries.
/** Capabilities (libs/<capability>/<kind>); `catalog` is the list of every message, built from the capabilities' contracts. */
const CAPABILITIES = ['marketdata', 'features', 'dataquality', 'backtests', 'signals', 'regime', 'catalog'];
const infraPackages = ['@nestjs/*', 'mongoose', '@duckdb/*', 'onnxruntime-node', '@nats-io/*', 'fastify', '@fastify/*'];

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      '.nx/**',
      'bench/peers/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // One import declaration per module (inline `type` markers for type-only names).
      'no-duplicate-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Kinds (type:*): what a kind of library may import.
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: ['type:contracts'],
              allowedExternalImports: ['zod'],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: infraPackages },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: infraPackages,
            },
            // type:kit: the platform's Nest kits (http: problem+json, guards, Fastify; messaging: @OnEvent/@OnCommand).
            { sourceTag: 'type:kit', onlyDependOnLibsWithTags: ['type:kit', 'type:contracts', 'type:util'] },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: ['type:feature', 'type:kit', 'type:domain', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:infra',
              onlyDependOnLibsWithTags: ['type:infra', 'type:kit', 'type:domain', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:infra',
                'type:kit',
                'type:domain',
                'type:contracts',
                'type:util',
              ],
            },
            // Scopes (scope:*): a capability depends on itself, the platform, shared code and other capabilities' contracts.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared'] },
            ...CAPABILITIES.map((c) => ({
              sourceTag: `scope:${c}`,
              onlyDependOnLibsWithTags: [`scope:${c}`, 'scope:platform', 'scope:shared', 'type:contracts'],
            })),
          ],
        },
      ],
    },
  },
  // Type-aware rules: every .ts file is in tsconfig.json, so the project service gives each one its program.
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Inline `type` markers, the style of the code base; `typeof import('./x')` stays allowed (the apps' main.ts loads
      // the app module after tracing has started).
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/testing/**/*.ts',
      'bench/**/*.ts',
      'test/**/*.ts',
      'scripts/**/*.ts',
    ],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
