import {
  aNetwork,
  anInstance,
  aRole,
  aSnapshot,
  instanceInfo,
  trustFor,
  type InfoSpec,
  type InstanceSpec,
  type NetworkSpec,
} from '../support/builders';
import type { AuditConfigInput } from '../../shared/config';
import { POLICY_ARNS } from '../../shared/knowledge/ssm-requirements';
import { audit, findingOf } from '../support/helpers';

const ID = 'i-0123456789abcdef0';
const MI = 'mi-0123456789abcdef0';
const goodProfile = aRole({
  name: 'SSMInstanceProfile',
  profiles: ['SSMInstanceProfile'],
  managed: [POLICY_ARNS.core],
});
const serviceRole = aRole({
  name: 'SSMServiceRole',
  trust: trustFor('ssm.amazonaws.com'),
  managed: [POLICY_ARNS.core],
});

interface Row {
  case: string;
  instance?: Partial<InstanceSpec>;
  info?: Partial<InfoSpec> | null;
  network?: NetworkSpec;
  calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
  config?: AuditConfigInput;
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
  message?: string;
  /** Text the remediation must contain. */
  remediation?: string;
}

const rows: Row[] = [
  { case: 'registered and Online with the latest agent', status: 'PASS', reason: 'MANAGED_ONLINE' },
  {
    case: 'ConnectionLost → FAIL with the last ping time',
    info: { ping: 'ConnectionLost', lastPing: '2026-11-20T08:00:00+00:00' },
    status: 'FAIL',
    reason: 'CONNECTION_LOST',
    evidence: { lastPing: '2026-11-20T08:00:00.000Z' },
  },
  {
    case: 'ConnectionLost with a failing prerequisite names it as the likely cause',
    info: { ping: 'ConnectionLost' },
    network: { defaultRoute: null },
    status: 'FAIL',
    reason: 'CONNECTION_LOST',
    evidence: {
      rootCauses: [expect.objectContaining({ ruleId: 'network-path', reason: 'NO_DEFAULT_ROUTE' })],
    },
  },
  {
    case: 'Inactive → WARN, the fix names the instance (never <id>) and starts it (deregistering is for mi- nodes only)',
    info: { ping: 'Inactive' },
    status: 'WARN',
    reason: 'INACTIVE',
    remediation: `aws ec2 start-instances --instance-ids ${ID}`,
  },
  {
    case: 'outdated agent → WARN',
    info: { isLatest: false, agentVersion: '3.0.1124.0' },
    status: 'WARN',
    reason: 'AGENT_OUTDATED',
  },
  {
    case: 'running but unregistered, no profile and DHMC off → FAIL with that root cause',
    instance: { profile: null },
    info: null,
    status: 'FAIL',
    reason: 'UNMANAGED',
    evidence: {
      rootCauses: [
        expect.objectContaining({
          ruleId: 'instance-permissions',
          reason: 'NO_INSTANCE_PROFILE_AND_DHMC_OFF',
        }),
      ],
    },
  },
  {
    case: 'unregistered with two failing prerequisites lists both',
    instance: { profile: null },
    info: null,
    network: { defaultRoute: null },
    status: 'FAIL',
    reason: 'UNMANAGED',
    evidence: {
      rootCauses: [
        expect.objectContaining({ ruleId: 'instance-permissions' }),
        expect.objectContaining({ ruleId: 'network-path', reason: 'NO_DEFAULT_ROUTE' }),
      ],
    },
  },
  {
    case: 'unregistered although every prerequisite passes → agent probably not installed or not running',
    info: null,
    status: 'FAIL',
    reason: 'UNMANAGED_AGENT_NOT_RUNNING',
    message: 'probably not installed or not running',
  },
  {
    case: 'unregistered and a prerequisite could not be evaluated → cause unknown, says so',
    info: null,
    calls: { 'ec2:DescribeRouteTables': { status: 'denied', error: 'UnauthorizedOperation' } },
    status: 'FAIL',
    reason: 'UNMANAGED_CAUSE_UNKNOWN',
  },
  {
    case: 'stopped instance is never "unmanaged"',
    instance: { state: 'stopped', profile: null },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'INSTANCE_STOPPED',
  },
  {
    case: 'pending long after its launch time, not registered, prerequisites fine',
    instance: { state: 'pending' },
    info: null,
    status: 'WARN',
    reason: 'NOT_YET_REGISTERED',
  },
  {
    case: 'exempt by tag',
    instance: { tags: { Name: 'appliance', 'ssm-audit:exempt': 'vendor appliance, no agent' } },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'EXEMPT_BY_TAG',
    message: 'vendor appliance, no agent',
  },
  // DESIGN §3 R7 "Launch grace" (NOW is 10:00; LaunchTime is when the instance was last launched or started).
  {
    case: 'running, launched 2 minutes ago, not registered yet → REGISTRATION_PENDING, not a failure',
    instance: { launchTime: '2026-11-23T09:58:00+00:00' },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'REGISTRATION_PENDING',
    evidence: {
      state: 'running',
      launchTime: '2026-11-23T09:58:00.000Z',
      registrationGraceMinutes: 30,
      registrationDueAt: '2026-11-23T10:28:00.000Z',
    },
    message: '2026-11-23T10:28:00.000Z',
  },
  {
    case: 'started again 29 minutes ago (a stop/start moves LaunchTime) → still pending',
    instance: { launchTime: '2026-11-23T09:31:00+00:00' },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'REGISTRATION_PENDING',
  },
  {
    case: 'launched exactly the grace ago → the grace is over: unmanaged',
    instance: { launchTime: '2026-11-23T09:30:00+00:00' },
    info: null,
    status: 'FAIL',
    reason: 'UNMANAGED_AGENT_NOT_RUNNING',
  },
  {
    case: 'within the grace with a failing prerequisite → pending, the cause in the evidence (its own rule fails)',
    instance: { launchTime: '2026-11-23T09:58:00+00:00', profile: null },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'REGISTRATION_PENDING',
    evidence: {
      rootCauses: [expect.objectContaining({ ruleId: 'instance-permissions' })],
    },
  },
  {
    case: 'pending (still starting) within the grace → REGISTRATION_PENDING',
    instance: { state: 'pending', launchTime: '2026-11-23T09:59:30+00:00' },
    info: null,
    status: 'NOT_APPLICABLE',
    reason: 'REGISTRATION_PENDING',
    evidence: { state: 'pending' },
  },
  {
    case: 'registered within the grace → judged as registered',
    instance: { launchTime: '2026-11-23T09:58:00+00:00' },
    status: 'PASS',
    reason: 'MANAGED_ONLINE',
  },
  {
    case: 'registrationGraceMinutes 10: 12 minutes after launch is unmanaged',
    instance: { launchTime: '2026-11-23T09:48:00+00:00' },
    info: null,
    config: { registrationGraceMinutes: 10 },
    status: 'FAIL',
    reason: 'UNMANAGED_AGENT_NOT_RUNNING',
  },
  {
    case: 'registrationGraceMinutes 0 turns the grace off',
    instance: { launchTime: '2026-11-23T09:59:00+00:00' },
    info: null,
    config: { registrationGraceMinutes: 0 },
    status: 'FAIL',
    reason: 'UNMANAGED_AGENT_NOT_RUNNING',
  },
  {
    case: 'within the grace but DescribeInstanceInformation denied → ERROR (registered or not is unknown)',
    instance: { launchTime: '2026-11-23T09:58:00+00:00' },
    calls: { 'ssm:DescribeInstanceInformation': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
  },
  // DESIGN §3 R7: stopped → NOT_APPLICABLE, also when an SSM call failed (the state comes from EC2).
  {
    case: 'stopped, DescribeInstanceInformation denied → NOT_APPLICABLE, not ERROR',
    instance: { state: 'stopped' },
    calls: { 'ssm:DescribeInstanceInformation': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'NOT_APPLICABLE',
    reason: 'INSTANCE_STOPPED',
    evidence: { state: 'stopped', registered: null },
  },
  {
    case: 'stopping, DescribeInstanceInformation failed → NOT_APPLICABLE, not ERROR',
    instance: { state: 'stopping' },
    calls: { 'ssm:DescribeInstanceInformation': { status: 'error', error: 'InternalServerError' } },
    status: 'NOT_APPLICABLE',
    reason: 'INSTANCE_STOPPED',
  },
  {
    case: 'exempt by tag, DescribeInstanceInformation denied → NOT_APPLICABLE (the tag comes from EC2)',
    instance: { tags: { 'ssm-audit:exempt': 'vendor appliance' } },
    calls: { 'ssm:DescribeInstanceInformation': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'NOT_APPLICABLE',
    reason: 'EXEMPT_BY_TAG',
  },
  {
    case: 'ssm:DescribeInstanceInformation denied → ERROR, never PASS or FAIL',
    calls: { 'ssm:DescribeInstanceInformation': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
  },
];

describe('managed-status', () => {
  it.each(rows)('$case', (row) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, ...row.instance })],
      ec2: aNetwork(row.network),
      infos: row.info === null ? [] : [instanceInfo({ id: ID, ...row.info })],
      roles: [goodProfile],
      calls: row.calls,
    });
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['managed-status'], config: row.config }),
      'managed-status',
      ID,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    expect(finding.message).not.toMatch(/\.\.|\(granted by/);
    if (row.evidence) expect(finding.evidence).toMatchObject(row.evidence);
    if (row.message) expect(finding.message).toContain(row.message);
    if (row.remediation) expect(finding.remediation).toContain(row.remediation);
  });

  it('an Online finding does not change when only the last ping time does (the table is not rewritten each run)', () => {
    const at = (lastPing: string) =>
      findingOf(
        audit(
          aSnapshot({
            instances: [anInstance({ id: ID })],
            ec2: aNetwork(),
            infos: [instanceInfo({ id: ID, lastPing })],
            roles: [goodProfile],
          }),
          { ruleIds: ['managed-status'] },
        ),
        'managed-status',
        ID,
      );
    const first = at('2026-11-23T09:55:00+00:00');
    const later = at('2026-11-23T10:00:00+00:00');
    expect(first.status).toBe('PASS');
    expect(later).toEqual(first);
    expect(first.evidence).not.toHaveProperty('lastPing');
  });

  it('closes a terminated instance: no findings at all, listed for closing', () => {
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, state: 'terminated', profile: null })],
      ec2: aNetwork(),
      roles: [],
    });
    const result = audit(snapshot);
    expect(result.findings.filter((f) => f.resourceId === ID)).toEqual([]);
    expect(result.closedResourceIds).toEqual([ID]);
  });

  it.each([
    { case: 'hybrid node Online', ping: 'Online' as const, status: 'PASS', reason: 'MANAGED_ONLINE' },
    {
      case: 'hybrid node ConnectionLost',
      ping: 'ConnectionLost' as const,
      status: 'FAIL',
      reason: 'CONNECTION_LOST',
    },
    {
      case: 'hybrid node Inactive: deregister it if it is gone, by its id',
      ping: 'Inactive' as const,
      status: 'WARN',
      reason: 'INACTIVE',
      remediation: `aws ssm deregister-managed-instance --instance-id ${MI}`,
    },
  ])('$case', ({ ping, status, reason, ...rest }) => {
    const snapshot = aSnapshot({ infos: [instanceInfo({ id: MI, ping })], roles: [serviceRole] });
    const finding = findingOf(audit(snapshot, { ruleIds: ['managed-status'] }), 'managed-status', MI);
    expect(finding).toMatchObject({ resourceType: 'ManagedInstance', status, reason });
    if ('remediation' in rest) expect(finding.remediation).toContain(rest.remediation);
  });
});
