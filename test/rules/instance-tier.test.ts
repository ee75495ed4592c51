import {
  ACCOUNT,
  aSnapshot,
  dhmcSetting,
  instanceInfo,
  tierSetting,
  type InfoSpec,
  type InstanceInformationInput,
  type ServiceSettingInput,
} from '../support/builders';
import type { AuditConfigInput } from '../../shared/config';
import { audit, findingOf, NOW } from '../support/helpers';

/** R6 (DESIGN §3, seed 003 "About instance tiers"): standard tier = 1,000 hybrid nodes per account and region. */

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();
const miId = (n: number) => `mi-${n.toString(16).padStart(17, '0')}`;

/** `count` registered hybrid nodes, Online unless `spec` says otherwise; ids start at `from`. */
function hybridNodes(count: number, spec: Partial<InfoSpec> = {}, from = 1): InstanceInformationInput[] {
  return Array.from({ length: count }, (_, i) => instanceInfo({ id: miId(from + i), ...spec }));
}

const STANDARD = [dhmcSetting(null), tierSetting('standard')];
const ADVANCED = [dhmcSetting(null), tierSetting('advanced')];

interface Row {
  case: string;
  given: { infos: InstanceInformationInput[]; settings?: ServiceSettingInput[]; config?: AuditConfigInput };
  expected: { status: string; reason: string; evidence?: Record<string, unknown> };
}

const rows: Row[] = [
  {
    case: 'standard tier, 790 hybrid nodes (79 %) → PASS',
    given: { infos: hybridNodes(790), settings: STANDARD },
    expected: {
      status: 'PASS',
      reason: 'STANDARD_TIER_OK_SESSION_MANAGER_NEEDS_ADVANCED',
      evidence: { tier: 'standard', registeredHybridNodes: 790, limit: 1000, usedPercent: 79 },
    },
  },
  {
    case: 'standard tier, 800 hybrid nodes (80 %) → WARN TIER_NEAR_LIMIT',
    given: { infos: hybridNodes(800), settings: STANDARD },
    expected: {
      status: 'WARN',
      reason: 'TIER_NEAR_LIMIT',
      evidence: { registeredHybridNodes: 800, usedPercent: 80 },
    },
  },
  {
    case: 'standard tier, 999 hybrid nodes → still WARN',
    given: { infos: hybridNodes(999), settings: STANDARD },
    expected: { status: 'WARN', reason: 'TIER_NEAR_LIMIT' },
  },
  {
    case: 'standard tier, 1,000 hybrid nodes (100 %) → FAIL TIER_LIMIT_REACHED',
    given: { infos: hybridNodes(1000), settings: STANDARD },
    expected: {
      status: 'FAIL',
      reason: 'TIER_LIMIT_REACHED',
      evidence: { registeredHybridNodes: 1000, usedPercent: 100 },
    },
  },
  {
    case: 'advanced tier, 1,200 hybrid nodes → PASS ADVANCED_TIER',
    given: { infos: hybridNodes(1200), settings: ADVANCED },
    expected: {
      status: 'PASS',
      reason: 'ADVANCED_TIER',
      evidence: { tier: 'advanced', registeredHybridNodes: 1200 },
    },
  },
  {
    case: 'EC2 registrations in DescribeInstanceInformation do not count against the hybrid quota',
    given: {
      infos: [
        ...hybridNodes(795),
        ...Array.from({ length: 20 }, (_, i) =>
          instanceInfo({ id: `i-${(i + 1).toString(16).padStart(17, '0')}` }),
        ),
      ],
      settings: STANDARD,
    },
    expected: {
      status: 'PASS',
      reason: 'STANDARD_TIER_OK_SESSION_MANAGER_NEEDS_ADVANCED',
      evidence: { registeredHybridNodes: 795 },
    },
  },
  {
    case: 'standard tier without hybrid nodes → PASS STANDARD_TIER_OK',
    given: { infos: [], settings: STANDARD },
    expected: { status: 'PASS', reason: 'STANDARD_TIER_OK', evidence: { registeredHybridNodes: 0 } },
  },
  {
    case: 'tierWarnPercent 50: 600 nodes → WARN',
    given: { infos: hybridNodes(600), settings: STANDARD, config: { tierWarnPercent: 50 } },
    expected: { status: 'WARN', reason: 'TIER_NEAR_LIMIT' },
  },
  {
    case: 'tierWarnPercent 90: 850 nodes → PASS',
    given: { infos: hybridNodes(850), settings: STANDARD, config: { tierWarnPercent: 90 } },
    expected: { status: 'PASS', reason: 'STANDARD_TIER_OK_SESSION_MANAGER_NEEDS_ADVANCED' },
  },
  {
    case: 'activation-tier setting absent → treated as standard (1,000 nodes FAIL)',
    given: { infos: hybridNodes(1000), settings: [dhmcSetting(null)] },
    expected: {
      status: 'FAIL',
      reason: 'TIER_LIMIT_REACHED',
      evidence: { tier: 'standard', limit: 1000 },
    },
  },
  {
    case: 'activation-tier setting absent with 900 nodes → WARN (standard thresholds apply)',
    given: { infos: hybridNodes(900), settings: [dhmcSetting(null)] },
    expected: { status: 'WARN', reason: 'TIER_NEAR_LIMIT', evidence: { tier: 'standard' } },
  },
];

describe('instance-tier', () => {
  it.each(rows)('$case', ({ given, expected }) => {
    // Prepare
    const snapshot = aSnapshot({ infos: given.infos, settings: given.settings });
    // Act
    const result = audit(snapshot, { ruleIds: ['instance-tier'], config: given.config });
    // Assess
    expect(result.findings).toHaveLength(1);
    const finding = findingOf(result, 'instance-tier', ACCOUNT);
    expect({ status: finding.status, reason: finding.reason, resourceType: finding.resourceType }).toEqual({
      status: expected.status,
      reason: expected.reason,
      resourceType: 'Account',
    });
    if (expected.evidence) expect(finding.evidence).toMatchObject(expected.evidence);
    if (expected.status === 'FAIL' || expected.status === 'WARN') {
      expect(finding.remediation).toContain('/ssm/managed-instance/activation-tier');
    }
  });

  it('standard tier with hybrid nodes: the PASS says Session Manager needs the advanced tier', () => {
    // Prepare
    const snapshot = aSnapshot({ infos: hybridNodes(3), settings: STANDARD });
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['instance-tier'] }), 'instance-tier', ACCOUNT);
    // Assess
    expect(finding.status).toBe('PASS');
    expect(finding.message).toMatch(/Session Manager.*advanced tier/);
    expect(String(finding.evidence.info)).toMatch(/Session Manager.*advanced/);
  });

  it('ConnectionLost for more than 30 days → WARN STALE_HYBRID_REGISTRATIONS listing only those nodes', () => {
    // Prepare: 2 long-dead, 1 lost 5 days ago, 1 lost exactly 31 days ago, the rest Online.
    const dead = [
      instanceInfo({ id: miId(0xd1), ping: 'ConnectionLost', lastPing: daysAgo(45), name: 'dc1-old-db' }),
      instanceInfo({ id: miId(0xd2), ping: 'ConnectionLost', lastPing: daysAgo(200) }),
      instanceInfo({ id: miId(0xd3), ping: 'ConnectionLost', lastPing: daysAgo(31) }),
    ];
    const recent = instanceInfo({ id: miId(0xe1), ping: 'ConnectionLost', lastPing: daysAgo(5) });
    const snapshot = aSnapshot({ infos: [...hybridNodes(10), ...dead, recent], settings: STANDARD });
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['instance-tier'] }), 'instance-tier', ACCOUNT);
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: 'WARN',
      reason: 'STALE_HYBRID_REGISTRATIONS',
    });
    const listed = (finding.evidence.staleRegistrations as { id: string }[]).map((s) => s.id);
    expect(listed.sort()).toEqual([miId(0xd1), miId(0xd2), miId(0xd3)].sort());
    expect(listed).not.toContain(miId(0xe1));
    expect(finding.evidence).toMatchObject({ staleRegistrationCount: 3, staleAfterDays: 30 });
    expect(finding.evidence.staleRegistrations).toContainEqual({
      id: miId(0xd1),
      lastPing: daysAgo(45),
      name: 'dc1-old-db',
    });
    expect(finding.remediation).toContain(`aws ssm deregister-managed-instance --instance-id ${miId(0xd1)}`);
  });

  it('staleHybridDays config moves the cut-off: 3 days lists the node lost 5 days ago', () => {
    // Prepare
    const recent = instanceInfo({ id: miId(0xe1), ping: 'ConnectionLost', lastPing: daysAgo(5) });
    const snapshot = aSnapshot({ infos: [...hybridNodes(2), recent], settings: STANDARD });
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['instance-tier'], config: { staleHybridDays: 3 } }),
      'instance-tier',
      ACCOUNT,
    );
    // Assess
    expect(finding.reason).toBe('STALE_HYBRID_REGISTRATIONS');
    expect((finding.evidence.staleRegistrations as { id: string }[]).map((s) => s.id)).toEqual([miId(0xe1)]);
  });

  it('near the limit with stale nodes: WARN TIER_NEAR_LIMIT that still lists them', () => {
    // Prepare
    const dead = instanceInfo({ id: miId(0xfff), ping: 'ConnectionLost', lastPing: daysAgo(90) });
    const snapshot = aSnapshot({ infos: [...hybridNodes(850), dead], settings: STANDARD });
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['instance-tier'] }), 'instance-tier', ACCOUNT);
    // Assess
    expect(finding.reason).toBe('TIER_NEAR_LIMIT');
    expect(finding.evidence).toMatchObject({ staleRegistrationCount: 1 });
    expect(finding.message).toContain('still use quota');
  });

  it('ssm:GetServiceSetting denied → ERROR, never a tier verdict', () => {
    // Prepare
    const snapshot = aSnapshot({
      infos: hybridNodes(1000),
      settings: STANDARD,
      calls: { 'ssm:GetServiceSetting': { status: 'denied', error: 'AccessDeniedException' } },
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['instance-tier'] });
    // Assess
    expect(result.findings).toHaveLength(1);
    const finding = findingOf(result, 'instance-tier', ACCOUNT);
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: 'ERROR',
      reason: 'API_CALL_DENIED',
    });
    expect(finding.message).toContain('ssm:GetServiceSetting');
  });
});
