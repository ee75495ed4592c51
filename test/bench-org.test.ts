import { capacityPlan, simulateOrganization } from '../scripts/dev/bench-org';

/** Issue 12 item 7: the Organization-mode simulation of `npm run bench`, at a tiny size. */
describe('bench: Organization mode simulation', () => {
  it('computes jobs, API calls per job against the minimum, one AssumeRole per account and the projection', async () => {
    // Act
    const r = await simulateOrganization({
      accounts: 3,
      regions: 2,
      instances: 5,
      storeSample: 2,
      concurrency: 4,
      clock: () => new Date('2026-01-15T10:00:00Z'),
    });
    // Assess
    expect(r.jobs).toBe(6);
    expect(r.workerJobs).toBe(6);
    expect(r.audited).toBe(6);
    expect(r.instances).toBe(6 * 5);
    expect(r.findings).toBeGreaterThan(6 * 5 * 5);
    expect(r.callsPerJob).toBeGreaterThan(0);
    expect(r.callsPerJob).toBeGreaterThanOrEqual(r.minimumPerJob - 2);
    expect(r.assumeRole).toBe(3);
    expect(r.assumeRolePerAccount).toBe(1);
    expect(r.plannerAssumeRole).toBe(3);
    expect(r.organizationCalls).toBeGreaterThan(0);
    expect(r.store.jobs).toBe(2);
    expect(r.store.firstRunWritesPerJob).toBeGreaterThan(r.store.steadyWritesPerJob);
    expect(r.projection.map((p) => p.concurrency)).toEqual([50, 200]);
    expect(r.projection.every((p) => p.seconds > 0 && typeof p.met === 'boolean')).toBe(true);
    expect(capacityPlan(r)[0]).toEqual(['account-regions (jobs) per run', '20,000']);
  });
});
