// ESLint flat config: typescript-eslint's recommended rules, Prettier for layout, and the
// architecture as import rules (docs/architecture.md, "Layers").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

/** Feature folders under src/: `common` may import none of them. */
const FEATURES = [
  'adjustments',
  'api-keys',
  'audit',
  'calendar',
  'clinics',
  'health',
  'observations',
  'outcomes',
  'patients',
  'plans',
  'protocols',
  'scheduling',
  'seed',
  'sessions',
  'sync',
  'webhooks',
];

/** `common` is shared by every feature and imports none of them. */
const COMMON_ZONE = {
  target: './src/common',
  from: FEATURES.map((f) => `./src/${f}`),
  message: 'src/common is shared by every feature and imports none of them.',
};

/** The engine is pure: luxon and itself. */
const ENGINE_ZONE = {
  target: './src/scheduling/engine',
  from: './src',
  except: ['./scheduling/engine'],
  message: 'The engine is pure: it imports nothing of the app (luxon only).',
};

const ENGINE_TESTS = ['src/scheduling/engine/**/*.spec.ts', 'src/scheduling/engine/fixtures.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { typescript: { project: './tsconfig.json' } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest's DI needs classes with only a constructor and decorators.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: [COMMON_ZONE, ENGINE_ZONE] }] },
  },
  {
    // The engine's own tests build their input with the real protocol model (tailor, the demo
    // template); the engine itself may not.
    files: ENGINE_TESTS,
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            COMMON_ZONE,
            {
              ...ENGINE_ZONE,
              except: ['./scheduling/engine', './protocols/domain', './seed/demo-protocol.ts'],
              message: "The engine's tests may use the protocol model to build input; nothing else of the app.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.controller.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'typeorm',
              importNames: ['DataSource', 'EntityManager', 'Repository'],
              message: 'Controllers are one call to a service.',
            },
          ],
          patterns: [
            { group: ['**/*.repository.js', '**/*.repository'], message: 'Controllers are one call to a service.' },
          ],
        },
      ],
    },
  },
  {
    // No SQL outside repositories (docs/architecture.md, "Layers"): statements are sent by
    // `*.repository.ts` files only; database bootstrap and migrations, the shared SQL helpers and
    // advisory locks (src/common/database) and the demo seed are the exceptions.
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.repository.ts',
      'src/database/**',
      'src/common/database/**',
      'src/seed/**',
      'src/cli/**',
      'src/**/*.spec.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(query|createQueryBuilder|runSql)$/]',
          message: 'SQL lives in repositories (*.repository.ts): call one.',
        },
        {
          selector: "CallExpression[callee.name='runSql']",
          message: 'SQL lives in repositories (*.repository.ts): call one.',
        },
        {
          selector: "TaggedTemplateExpression[tag.name='sql'], TaggedTemplateExpression[tag.property.name='sql']",
          message: 'SQL lives in repositories (*.repository.ts): call one.',
        },
      ],
    },
  },
  {
    // No source file over 400 lines, every line counted (issue 16: a file a newcomer can read whole;
    // split a longer one by job). Tests are exempt: a spec walks one feature end to end, and
    // test/engine-frozen/ is a frozen copy of the old engine kept for differential tests.
    files: ['src/**/*.ts', 'bench/**/*.ts', 'migrations/**/*.ts', 'web/src/**/*.{ts,tsx}'],
    ignores: ['**/*.spec.ts'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } },
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
