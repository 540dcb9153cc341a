/** Jest in native ESM mode (NestJS 12 is ESM-only); see README "Tests". */
export default {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // The reliability suite (real processes, database restarts) runs on its own: npm run test:reliability.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  // Node 20 never frees a test file's ES modules (vm.SourceTextModule, nodejs/node#59118), so a
  // worker keeps every file's Nest app and module graph: ~30 MB more per API file, 1.5-2 GB by the
  // end of a run. Exiting such a process took 1.3-1.5 s, past Jest's 500 ms grace, hence "A worker
  // process has failed to exit gracefully" with no handle open (issue 14). A worker whose heap is
  // past this after a file is replaced by a fresh one; test/operations/test-run.spec.ts checks it.
  workerIdleMemoryLimit: '400MB',
};
