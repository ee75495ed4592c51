import {
  aNetwork,
  anInstance,
  aSnapshot,
  instanceInfo,
  type InfoSpec,
  type InstanceSpec,
} from '../support/builders';
import { audit, findingOf } from '../support/helpers';

/** R8 (DESIGN §3, seed 000 step 3, seed 001 table) through the whole pipeline; the OS table itself is tested in test/supported-os.test.ts. */

const EC2 = 'i-0123456789abcdef0';
const MI = 'mi-0123456789abcdef0';

interface Row {
  case: string;
  given: {
    subject: 'ec2' | 'hybrid';
    instance?: Partial<InstanceSpec>;
    /** What DescribeInstanceInformation reports; null = the machine never registered. */
    os: Pick<InfoSpec, 'platformType' | 'platformName' | 'platformVersion'> | null;
  };
  expected: { status: string; reason: string; severity?: string; evidence?: Record<string, unknown> };
}

const rows: Row[] = [
  {
    case: 'EC2 Amazon Linux 2023 → PASS OS_SUPPORTED',
    given: {
      subject: 'ec2',
      os: { platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2023' },
    },
    expected: {
      status: 'PASS',
      reason: 'OS_SUPPORTED',
      evidence: { platformName: 'Amazon Linux', platformVersion: '2023', family: 'Amazon Linux' },
    },
  },
  {
    case: 'EC2 Windows Server 2003 R2 → FAIL OS_UNSUPPORTED',
    given: {
      subject: 'ec2',
      instance: { platform: 'windows' },
      os: {
        platformType: 'Windows',
        platformName: 'Microsoft Windows Server 2003 R2 Standard',
        platformVersion: '5.2.3790',
      },
    },
    expected: {
      status: 'FAIL',
      reason: 'OS_UNSUPPORTED',
      evidence: { platformType: 'Windows', family: 'Windows Server' },
    },
  },
  {
    case: 'EC2 CentOS 6.10 → WARN OS_DEPRECATED',
    given: {
      subject: 'ec2',
      os: { platformType: 'Linux', platformName: 'CentOS', platformVersion: '6.10' },
    },
    expected: { status: 'WARN', reason: 'OS_DEPRECATED', evidence: { family: 'CentOS' } },
  },
  {
    case: 'EC2 with a distro the table does not know → WARN OS_UNKNOWN',
    given: {
      subject: 'ec2',
      os: { platformType: 'Linux', platformName: 'Gentoo Base System', platformVersion: '2.14' },
    },
    expected: {
      status: 'WARN',
      reason: 'OS_UNKNOWN',
      severity: 'LOW',
      evidence: { platformName: 'Gentoo Base System', family: null },
    },
  },
  {
    case: 'EC2 instance that never registered → WARN OS_UNKNOWN with DescribeInstances PlatformDetails',
    given: {
      subject: 'ec2',
      instance: { platformDetails: 'Red Hat Enterprise Linux' },
      os: null,
    },
    expected: {
      status: 'WARN',
      reason: 'OS_UNKNOWN',
      severity: 'LOW',
      evidence: { platformDetails: 'Red Hat Enterprise Linux', platformName: undefined },
    },
  },
  {
    case: 'hybrid node running Raspbian → PASS',
    given: {
      subject: 'hybrid',
      os: { platformType: 'Linux', platformName: 'Raspbian GNU/Linux', platformVersion: '11' },
    },
    expected: { status: 'PASS', reason: 'OS_SUPPORTED', evidence: { family: 'Raspberry Pi OS' } },
  },
  {
    case: 'hybrid node running Windows Server 2003 → FAIL OS_UNSUPPORTED',
    given: {
      subject: 'hybrid',
      os: {
        platformType: 'Windows',
        platformName: 'Microsoft Windows Server 2003 R2 Standard',
        platformVersion: '5.2.3790',
      },
    },
    expected: { status: 'FAIL', reason: 'OS_UNSUPPORTED' },
  },
];

describe('supported-os', () => {
  it.each(rows)('$case', ({ given, expected }) => {
    // Prepare
    const id = given.subject === 'ec2' ? EC2 : MI;
    const snapshot = aSnapshot({
      instances: given.subject === 'ec2' ? [anInstance({ id: EC2, ...given.instance })] : [],
      ec2: aNetwork(),
      infos: given.os === null ? [] : [instanceInfo({ id, ...given.os })],
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['supported-os'] });
    const finding = findingOf(result, 'supported-os', id);
    // Assess
    expect({ status: finding.status, reason: finding.reason, resourceType: finding.resourceType }).toEqual({
      status: expected.status,
      reason: expected.reason,
      resourceType: given.subject === 'ec2' ? 'EC2Instance' : 'ManagedInstance',
    });
    if (expected.severity) expect(finding.severity).toBe(expected.severity);
    if (expected.evidence) expect(finding.evidence).toMatchObject(expected.evidence);
    if (expected.status !== 'PASS') expect(finding.remediation).not.toBe('No action needed.');
  });

  it('the FAIL for Windows Server 2003 explains that the agent does not run on it', () => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: EC2, platform: 'windows' })],
      infos: [
        instanceInfo({
          id: EC2,
          platformType: 'Windows',
          platformName: 'Microsoft Windows Server 2003 R2 Standard',
          platformVersion: '5.2.3790',
        }),
      ],
    });
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['supported-os'] }), 'supported-os', EC2);
    // Assess
    expect(finding.message).toContain('Windows Server 2003');
    expect(finding.severity).toBe('MEDIUM');
  });
});

describe('supported-os when DescribeInstanceInformation failed', () => {
  it.each([
    {
      case: 'a stopped instance → NOT_APPLICABLE, not an ERROR that alerts',
      state: 'stopped',
      expected: ['NOT_APPLICABLE', 'INSTANCE_STOPPED'],
    },
    {
      case: 'a stopping instance → NOT_APPLICABLE',
      state: 'stopping',
      expected: ['NOT_APPLICABLE', 'INSTANCE_STOPPED'],
    },
    {
      case: 'a running instance → ERROR naming the call',
      state: 'running',
      expected: ['ERROR', 'API_CALL_DENIED'],
    },
  ] as const)('$case', ({ state, expected }) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: EC2, state })],
      ec2: aNetwork(),
      calls: { 'ssm:DescribeInstanceInformation': { status: 'denied', error: 'AccessDeniedException' } },
    });
    delete (snapshot.ssm as { InstanceInformationList?: unknown }).InstanceInformationList;
    // Act
    const finding = findingOf(audit(snapshot, { ruleIds: ['supported-os'] }), 'supported-os', EC2);
    // Assess
    expect([finding.status, finding.reason]).toEqual(expected);
  });
});
