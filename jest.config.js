// CI's clock override when Debian's faketime is missing: FAKE_DATE moves Date (only Date: timers stay
// real) in every test's context; .ci/fake-date.js does the same for child processes.
const fakeDate = process.env.FAKE_DATE ? Date.parse(process.env.FAKE_DATE) : NaN;
const realTimers = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'requestIdleCallback',
  'cancelIdleCallback',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
];

/** @type {import('jest').Config} */
module.exports = {
  ...(Number.isFinite(fakeDate)
    ? { fakeTimers: { enableGlobally: true, now: fakeDate, advanceTimers: true, doNotFake: realTimers } }
    : {}),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking runs once in `npm test` (tsc --noEmit); jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // No tight timeouts: the suite must pass with both cores busy (dynalite, osls and child processes).
  testTimeout: 120_000,
};
