import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Library kinds and what each may import (CONVENTIONS.md). Enforced by @nx/enforce-module-boundaries.
const infraPackages = ['@nestjs/*', 'mongoose', '@duckdb/*', 'onnxruntime-node', '@nats-io/*', 'fastify', '@fastify/*'];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', '.nx/**', 'bench/peers/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], allowedExternalImports: ['zod'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'], bannedExternalImports: infraPackages },
            // type:messaging holds the Nest handler decorators bound to contracts (@OnEvent/@OnCommand) and the durable
            // consumer bases over the EventBus port (DurableConsumers, WorkQueueRunner), so feature handlers and the
            // infra transport agree on one shape without features importing adapters.
            { sourceTag: 'type:messaging', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:messaging', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:messaging', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:infra', 'type:messaging', 'type:contracts', 'type:util'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/testing/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
