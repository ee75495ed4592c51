import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RULES, RULE_IDS } from '../rules';
import {
  buildDemoFleet,
  buildDemoFleetAfter,
  DEMO_AFTER_NOW,
  DEMO_NOW,
  demoHybridId,
  demoInstanceId,
  toFixtureJson,
} from './support/demo-fleet';
import { evaluateInventory, type AuditResult } from '../shared/engine/evaluate';
import { buildInventory } from '../shared/snapshot/inventory';
import { type Finding, type RuleId, type Status } from '../shared/model';
import { parseSnapshot } from '../shared/snapshot/load';
import { alertFor } from '../shared/store/diff';
import type { SnapshotInput } from '../shared/snapshot/schema';

const FIXTURES = path.join(__dirname, 'fixtures', 'demo');
const REGENERATE = 'run `node -r tsx/cjs scripts/dev/generate-demo-fleet.ts` and commit the result';

const readFixture = (file: string) => readFileSync(path.join(FIXTURES, file), 'utf8');

function auditFixture(text: string, now: string): AuditResult {
  const inventory = buildInventory(parseSnapshot(JSON.parse(text), 'demo fixture'));
  return evaluateInventory(inventory, { rules: RULES, now: new Date(now) });
}

const findingsOf = (result: AuditResult, ruleId: RuleId, resourceId: string): Finding[] =>
  result.findings.filter((f) => f.ruleId === ruleId && f.resourceId === resourceId);

function only(result: AuditResult, ruleId: RuleId, resourceId: string): Finding {
  const matches = findingsOf(result, ruleId, resourceId);
  if (matches.length !== 1)
    throw new Error(`expected one ${ruleId} finding for ${resourceId}, got ${matches.length}`);
  return matches[0]!;
}

describe.each([
  { file: 'demo-fleet.json', build: buildDemoFleet },
  { file: 'demo-fleet-after.json', build: buildDemoFleetAfter },
])('$file', ({ file, build }: { file: string; build: () => SnapshotInput }) => {
  const text = readFixture(file);

  it('is exactly what the builder produces (regenerate instead of editing by hand)', () => {
    const built = toFixtureJson(build());
    // Compare parsed first, for a readable diff; then byte for byte, so formatting drift is caught too.
    expect(JSON.parse(text)).toEqual(JSON.parse(built));
    if (text !== built) throw new Error(`${file} is not formatted as the generator writes it: ${REGENERATE}`);
  });

  it('passes the snapshot schema', () => {
    expect(() => parseSnapshot(JSON.parse(text), file)).not.toThrow();
  });
});

describe('demo fleet (DEMO_NOW)', () => {
  const text = readFixture('demo-fleet.json');
  const snapshot = parseSnapshot(JSON.parse(text));
  const result = auditFixture(text, DEMO_NOW);
  const statusesOf = (ruleId: RuleId) =>
    new Set(result.findings.filter((f) => f.ruleId === ruleId).map((f) => f.status));
  const id = demoInstanceId;

  it('has the size the demo promises: ≥ 40 EC2 instances, ≥ 3 VPCs, ≥ 10 hybrid nodes', () => {
    const instances = (snapshot.ec2?.Reservations ?? []).flatMap((r) => r.Instances);
    const hybrid = (snapshot.ssm?.InstanceInformationList ?? []).filter(
      (i) => i.ResourceType === 'ManagedInstance',
    );
    expect(instances.length).toBeGreaterThanOrEqual(40);
    expect(snapshot.ec2?.Vpcs?.length).toBeGreaterThanOrEqual(3);
    expect(hybrid.length).toBeGreaterThanOrEqual(10);
    expect(new Set(instances.map((i) => i.State.Name))).toEqual(
      new Set(['running', 'pending', 'stopped', 'terminated']),
    );
  });

  it('puts the standard tier above 80 % of its 1,000 hybrid nodes', () => {
    const hybrid = (snapshot.ssm?.InstanceInformationList ?? []).filter((i) =>
      i.InstanceId.startsWith('mi-'),
    );
    expect(hybrid.length).toBeGreaterThanOrEqual(800);
    expect(hybrid.length).toBeLessThan(1000);
  });

  const required: { ruleId: RuleId; statuses: Status[] }[] = RULE_IDS.map((ruleId) => ({
    ruleId,
    // Activations never FAIL by design (worst is WARN); the tier rule is one account-level finding.
    statuses:
      ruleId === 'activations' ? ['PASS', 'WARN'] : ruleId === 'instance-tier' ? ['WARN'] : ['PASS', 'FAIL'],
  }));
  it.each(required)('$ruleId yields $statuses', ({ ruleId, statuses }) => {
    const seen = statusesOf(ruleId);
    for (const status of statuses) expect(seen).toContain(status);
  });

  it('never gives ERROR: every section the rules need is in the demo', () => {
    expect(result.findings.filter((f) => f.status === 'ERROR')).toEqual([]);
  });

  it('closes the terminated instance instead of evaluating it', () => {
    expect(result.closedResourceIds).toEqual([id('api-0-old')]);
  });

  it.each([
    {
      name: 'reporting-1',
      ruleId: 'instance-permissions',
      status: 'FAIL',
      reason: 'DHMC_SHADOWED_BY_PROFILE',
    },
    {
      name: 'payments-1',
      ruleId: 'instance-permissions',
      status: 'FAIL',
      reason: 'DHMC_SHADOWED_BY_PROFILE',
    },
    { name: 'db-proxy-2', ruleId: 'instance-permissions', status: 'FAIL', reason: 'DHMC_REQUIRES_IMDSV2' },
    { name: 'db-proxy-1', ruleId: 'instance-permissions', status: 'PASS', reason: 'DHMC_PATH_OK' },
    { name: 'legacy-report-1', ruleId: 'instance-permissions', status: 'FAIL', reason: 'DHMC_AGENT_TOO_OLD' },
    {
      name: 'stg-db-migrate-1',
      ruleId: 'instance-permissions',
      status: 'WARN',
      reason: 'DHMC_AGENT_VERSION_UNKNOWN',
    },
    { name: 'batch-1', ruleId: 'instance-permissions', status: 'WARN', reason: 'DEPRECATED_POLICY' },
    { name: 'etl-1', ruleId: 'instance-permissions', status: 'WARN', reason: 'CONDITIONAL_GRANT' },
    { name: 'ops-bastion-1', ruleId: 'instance-permissions', status: 'PASS', reason: 'PROFILE_GRANTS_CORE' },
    { name: 'stg-worker-1', ruleId: 'network-path', status: 'FAIL', reason: 'ENDPOINT_PRIVATE_DNS_DISABLED' },
    { name: 'legacy-erp-db', ruleId: 'network-path', status: 'FAIL', reason: 'VPC_DNS_DISABLED' },
    { name: 'spark-worker-1', ruleId: 'network-path', status: 'FAIL', reason: 'ENDPOINT_SG_NO_443' },
    { name: 'dev-web-2', ruleId: 'network-path', status: 'FAIL', reason: 'IGW_WITHOUT_PUBLIC_IP' },
    { name: 'dev-api-2', ruleId: 'network-path', status: 'FAIL', reason: 'NACL_BLOCKS_EPHEMERAL' },
    { name: 'dev-scraper-1', ruleId: 'network-path', status: 'FAIL', reason: 'NACL_BLOCKS_443' },
    { name: 'dev-jenkins-1', ruleId: 'network-path', status: 'FAIL', reason: 'SG_NO_EGRESS_443' },
    { name: 'dev-shared-ad-1', ruleId: 'network-path', status: 'WARN', reason: 'ROUTE_UNVERIFIABLE' },
    { name: 'stg-web-1', ruleId: 'network-path', status: 'PASS', reason: 'INTERNET_PATH_OK' },
    { name: 'cache-1', ruleId: 's3-bucket-access', status: 'FAIL', reason: 'S3_BUCKET_NOT_GRANTED' },
    { name: 'ml-train-1', ruleId: 's3-bucket-access', status: 'WARN', reason: 'S3_REGION_WILDCARD' },
    {
      name: 'spark-worker-2',
      ruleId: 's3-bucket-access',
      status: 'FAIL',
      reason: 'S3_GATEWAY_ENDPOINT_NOT_ROUTED',
    },
    { name: 'legacy-win2003', ruleId: 'supported-os', status: 'FAIL', reason: 'OS_UNSUPPORTED' },
    { name: 'legacy-centos6-build', ruleId: 'supported-os', status: 'WARN', reason: 'OS_DEPRECATED' },
    { name: 'fw-appliance-1', ruleId: 'managed-status', status: 'NOT_APPLICABLE', reason: 'EXEMPT_BY_TAG' },
    // Launched 90 s before the snapshot, still pending: within the launch grace.
    { name: 'api-4', ruleId: 'managed-status', status: 'NOT_APPLICABLE', reason: 'REGISTRATION_PENDING' },
    { name: 'ci-runner-1', ruleId: 'managed-status', status: 'WARN', reason: 'INACTIVE' },
    { name: 'win-ad-2', ruleId: 'managed-status', status: 'FAIL', reason: 'CONNECTION_LOST' },
    { name: 'batch-2', ruleId: 'managed-status', status: 'NOT_APPLICABLE', reason: 'INSTANCE_STOPPED' },
  ] as const)('$name: $ruleId is $status $reason', ({ name, ruleId, status, reason }) => {
    expect(only(result, ruleId, id(name))).toMatchObject({ status, reason });
  });

  it('explains an unmanaged instance with the failing prerequisite', () => {
    const finding = only(result, 'managed-status', id('db-proxy-2'));
    expect(finding).toMatchObject({ status: 'FAIL', reason: 'UNMANAGED' });
    expect(finding.message).toContain('IMDSv1');
  });

  it.each(['web-1', 'api-1', 'spark-master-1'])('%s, a healthy instance, passes every rule', (name) => {
    const ofInstance = result.findings.filter((f) => f.resourceId === id(name));
    expect(new Set(ofInstance.map((f) => f.ruleId))).toEqual(
      new Set(['instance-permissions', 'network-path', 's3-bucket-access', 'managed-status', 'supported-os']),
    );
    expect(ofInstance.filter((f) => f.status !== 'PASS')).toEqual([]);
  });

  it.each([
    { name: 'kiosk-01', ruleId: 'hybrid-service-role', status: 'FAIL', reason: 'HYBRID_ROLE_TRUST_MISSING' },
    { name: 'decom-web-03', ruleId: 'hybrid-service-role', status: 'FAIL', reason: 'HYBRID_ROLE_NOT_FOUND' },
    {
      name: 'dub-legacy-erp',
      ruleId: 'hybrid-service-role',
      status: 'WARN',
      reason: 'HYBRID_ROLE_DEPRECATED_POLICY',
    },
    { name: 'dub-db-01', ruleId: 'hybrid-service-role', status: 'PASS', reason: 'HYBRID_ROLE_OK' },
    { name: 'old-nas-01', ruleId: 'managed-status', status: 'FAIL', reason: 'CONNECTION_LOST' },
    { name: 'dub-fax-01', ruleId: 'supported-os', status: 'FAIL', reason: 'OS_UNSUPPORTED' },
  ] as const)('hybrid $name: $ruleId is $status $reason', ({ name, ruleId, status, reason }) => {
    expect(only(result, ruleId, demoHybridId(name))).toMatchObject({ status, reason });
  });

  it('warns about the tier and lists the registrations dead for over 30 days', () => {
    const tier = only(result, 'instance-tier', snapshot.accountId);
    expect(tier).toMatchObject({ status: 'WARN', reason: 'TIER_NEAR_LIMIT' });
    const stale = (tier.evidence.staleRegistrations as { id: string }[]).map((s) => s.id).sort();
    expect(stale).toEqual(['old-nas-01', 'decom-web-03', 'dub-fax-01'].map(demoHybridId).sort());
  });

  it('has valid, expired, exhausted and expiring activations', () => {
    const reasons = result.findings.filter((f) => f.ruleId === 'activations').map((f) => f.reason);
    expect(new Set(reasons)).toEqual(
      new Set(['ACTIVATION_OK', 'ACTIVATION_EXPIRED', 'ACTIVATION_EXHAUSTED', 'ACTIVATION_EXPIRING']),
    );
  });
});

describe('demo fleet a week later (DEMO_AFTER_NOW)', () => {
  const before = auditFixture(readFixture('demo-fleet.json'), DEMO_NOW);
  const after = auditFixture(readFixture('demo-fleet-after.json'), DEMO_AFTER_NOW);
  const statusOf = (result: AuditResult, ruleId: RuleId, resourceId: string) =>
    findingsOf(result, ruleId, resourceId)[0]?.status;

  it.each([
    { name: 'reporting-1', ruleId: 'instance-permissions' },
    { name: 'db-proxy-2', ruleId: 'instance-permissions' },
    { name: 'stg-worker-1', ruleId: 'network-path' },
    { name: 'dev-api-2', ruleId: 'network-path' },
  ] as const)('fixed: $name $ruleId goes FAIL → PASS', ({ name, ruleId }) => {
    expect(statusOf(before, ruleId, demoInstanceId(name))).toBe('FAIL');
    expect(statusOf(after, ruleId, demoInstanceId(name))).toBe('PASS');
  });

  it.each([
    { name: 'web-2', ruleId: 'managed-status' },
    { name: 'dev-web-1', ruleId: 'network-path' },
    { name: 'cache-1', ruleId: 'instance-permissions' },
  ] as const)('broke: $name $ruleId goes PASS → FAIL', ({ name, ruleId }) => {
    expect(statusOf(before, ruleId, demoInstanceId(name))).toBe('PASS');
    expect(statusOf(after, ruleId, demoInstanceId(name))).toBe('FAIL');
  });

  it('terminates batch-2, launches api-5 and leaves the tier below its warning level', () => {
    expect(after.closedResourceIds).toContain(demoInstanceId('batch-2'));
    expect(statusOf(after, 'instance-permissions', demoInstanceId('api-5'))).toBe('FAIL');
    expect(statusOf(before, 'instance-permissions', demoInstanceId('api-5'))).toBeUndefined();
    expect(after.findings.find((f) => f.ruleId === 'instance-tier')?.status).toBe('PASS');
  });

  it('api-6, started three minutes before the audit and not registered yet, is REGISTRATION_PENDING: no alert', () => {
    const ofInstance = after.findings.filter((f) => f.resourceId === demoInstanceId('api-6'));
    expect(only(after, 'managed-status', demoInstanceId('api-6'))).toMatchObject({
      status: 'NOT_APPLICABLE',
      reason: 'REGISTRATION_PENDING',
      evidence: { registrationDueAt: '2026-11-30T10:27:00.000Z' },
    });
    // A new finding alerts only when it fails (DESIGN §5): none of this instance's findings does.
    expect(ofInstance.map((f) => alertFor(null, f.status)).filter(Boolean)).toEqual([]);
  });
});
