import base from './jest.config.js';

/**
 * Issue 9's reliability tests: two instances on one database, a service process killed with
 * SIGKILL, the database restarted under load, retried idempotent bookings. They start real
 * processes (dist/src/main.js, so `npm run test:reliability` builds first) and load the machine:
 * one file at a time, so that their timings do not depend on each other.
 */
export default {
  ...base,
  testMatch: ['<rootDir>/test/reliability/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 90000,
  maxWorkers: 1,
};
