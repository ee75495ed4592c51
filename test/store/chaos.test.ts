import { failures, runChaos } from '../../scripts/dev/chaos-harness';

/**
 * A smaller `npm run chaos` in the suite: the store's guarantees (newest evaluation wins, history never
 * lost, one alert per transition) under overlapping audits, a run dying after each write, SNS outages,
 * a crash between publish and clear, duplicate events and cut runs. CI also runs the full table.
 */
it('every fault of the chaos table leaves no finding wrong, no history lost, no alert duplicated or missing', async () => {
  const { rows, problems } = await runChaos({ seed: 7, overlapRounds: 15, timeoutRounds: 4 });
  expect(problems).toEqual([]);
  expect(failures(rows)).toBe(0);
  const checked = Object.fromEntries(rows.map((r) => [r.fault, r.findings]));
  for (const fault of Object.keys(checked)) expect(checked[fault]).toBeGreaterThan(0);
  // The crash between SNS accepting and the outbox clearing re-sends under the same alert ids.
  expect(rows.find((r) => r.fault.startsWith('crash between'))!.redelivered).toBeGreaterThan(0);
});
