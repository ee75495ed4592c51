import {
  ACCOUNT,
  allow,
  anActivation,
  aRole,
  aSnapshot,
  instanceInfo,
  policy,
  trustFor,
  type InstanceInformationInput,
  type RoleDetailInput,
} from '../../scripts/fleet/builders';
import { POLICY_ARNS } from '../../shared/ssm-requirements';
import { audit, findingOf } from '../helpers';

/** R4 (DESIGN §3, seed 004 "Create an IAM Service Role"), for hybrid nodes and for activations. */

const MI = 'mi-0123456789abcdef0';
const ACTIVATION = 'e488f2f6-e686-4afb-8a04-ef6dfe1a2b3c';
const ROLE = 'SSMServiceRole';

const ssmRole = (spec: Partial<Parameters<typeof aRole>[0]> = {}): RoleDetailInput =>
  aRole({ name: ROLE, trust: trustFor('ssm.amazonaws.com'), managed: [POLICY_ARNS.core], ...spec });

/** The core actions minus ssmmessages: the agent registers but Session Manager / Run Command channels fail. */
const withoutSsmMessages = policy(
  allow([
    'ssm:UpdateInstanceInformation',
    'ec2messages:AcknowledgeMessage',
    'ec2messages:DeleteMessage',
    'ec2messages:FailMessage',
    'ec2messages:GetEndpoint',
    'ec2messages:GetMessages',
    'ec2messages:SendReply',
  ]),
);

const conditionalTrust = policy({
  Effect: 'Allow',
  Principal: { Service: 'ssm.amazonaws.com' },
  Action: 'sts:AssumeRole',
  Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } },
});

interface Given {
  roles: RoleDetailInput[];
  /** The IamRole the node / activation reports; null = it reports none. */
  iamRole: string | null;
}
interface Expected {
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
}
interface Row {
  case: string;
  given: Given;
  expected: Expected;
}

const conditions: Row[] = [
  {
    case: 'role trusts ssm.amazonaws.com and has AmazonSSMManagedInstanceCore',
    given: { roles: [ssmRole()], iamRole: ROLE },
    expected: {
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
      evidence: { iamRole: ROLE, missingActions: [], deniedActions: [] },
    },
  },
  {
    case: 'role trusts ec2.amazonaws.com only',
    given: { roles: [ssmRole({ trust: trustFor('ec2.amazonaws.com') })], iamRole: ROLE },
    expected: { status: 'FAIL', reason: 'HYBRID_ROLE_TRUST_MISSING', evidence: { iamRole: ROLE } },
  },
  {
    case: 'role does not exist',
    given: { roles: [aRole({ name: 'SomeOtherRole', trust: trustFor('ssm.amazonaws.com') })], iamRole: ROLE },
    expected: { status: 'FAIL', reason: 'HYBRID_ROLE_NOT_FOUND', evidence: { iamRole: ROLE } },
  },
  {
    case: 'role relies on the deprecated AmazonEC2RoleforSSM',
    given: { roles: [ssmRole({ managed: [POLICY_ARNS.deprecatedEc2RoleForSsm] })], iamRole: ROLE },
    expected: {
      status: 'WARN',
      reason: 'HYBRID_ROLE_DEPRECATED_POLICY',
      evidence: { attachedPolicies: [POLICY_ARNS.deprecatedEc2RoleForSsm] },
    },
  },
  {
    case: 'role with only an inline policy that lacks ssmmessages',
    given: { roles: [ssmRole({ managed: [], inline: { agent: withoutSsmMessages } })], iamRole: ROLE },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      evidence: {
        missingActions: [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
      },
    },
  },
  {
    case: 'trust of ssm.amazonaws.com depends on a Condition',
    given: { roles: [ssmRole({ trust: conditionalTrust })], iamRole: ROLE },
    expected: { status: 'WARN', reason: 'HYBRID_ROLE_TRUST_CONDITIONAL' },
  },
  {
    case: 'no IamRole reported',
    given: { roles: [ssmRole()], iamRole: null },
    expected: { status: 'WARN', reason: 'HYBRID_ROLE_UNKNOWN', evidence: { iamRole: null } },
  },
  {
    case: 'IamRole given with a path (service-role/SSMServiceRole) resolves to the role',
    given: { roles: [ssmRole({ path: '/service-role/' })], iamRole: `service-role/${ROLE}` },
    expected: { status: 'PASS', reason: 'HYBRID_ROLE_OK', evidence: { iamRole: ROLE } },
  },
];

/** A hybrid node (the role from DescribeInstanceInformation's IamRole) and an activation (DescribeActivations' IamRole). */
const subjects = [
  {
    subject: 'hybrid node',
    resourceId: MI,
    resourceType: 'ManagedInstance',
    build: (given: Given) => {
      const info: InstanceInformationInput = instanceInfo({ id: MI, iamRole: given.iamRole ?? ROLE });
      if (given.iamRole === null) delete info.IamRole;
      return aSnapshot({ infos: [info], roles: given.roles });
    },
  },
  {
    subject: 'activation',
    resourceId: ACTIVATION,
    resourceType: 'Account',
    build: (given: Given) => {
      const activation = anActivation({
        id: ACTIVATION,
        role: given.iamRole ?? ROLE,
        expires: '2027-06-01T00:00:00+00:00',
      });
      if (given.iamRole === null) delete activation.IamRole;
      return aSnapshot({ activations: [activation], roles: given.roles });
    },
  },
] as const;

const rows = subjects.flatMap((s) =>
  conditions.map((row) => ({ ...row, case: `${s.subject}: ${row.case}`, target: s })),
);

describe('hybrid-service-role', () => {
  it.each(rows)('$case', ({ given, expected, target }) => {
    // Prepare
    const snapshot = target.build(given);
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['hybrid-service-role'] }),
      'hybrid-service-role',
      target.resourceId,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason, resourceType: finding.resourceType }).toEqual({
      status: expected.status,
      reason: expected.reason,
      resourceType: target.resourceType,
    });
    if (expected.evidence) expect(finding.evidence).toMatchObject(expected.evidence);
    if (expected.status === 'PASS') expect(finding.remediation).toBe('No action needed.');
    else expect(finding.remediation).not.toBe('No action needed.');
  });

  it('names the replacement policy when the deprecated one is attached', () => {
    // Prepare
    const snapshot = aSnapshot({
      infos: [instanceInfo({ id: MI, iamRole: ROLE })],
      roles: [ssmRole({ managed: [POLICY_ARNS.deprecatedEc2RoleForSsm] })],
    });
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['hybrid-service-role'] }),
      'hybrid-service-role',
      MI,
    );
    // Assess
    expect(finding.remediation).toContain(POLICY_ARNS.core);
    expect(finding.message).toContain('AmazonSSMManagedInstanceCore');
  });

  it('evaluates every activation separately, keyed by activation id', () => {
    // Prepare
    const good = anActivation({ id: ACTIVATION, role: ROLE, expires: '2027-06-01T00:00:00+00:00' });
    const bad = anActivation({
      id: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      role: 'GoneRole',
      expires: '2027-06-01T00:00:00+00:00',
    });
    // Act
    const result = audit(aSnapshot({ activations: [good, bad], roles: [ssmRole()] }), {
      ruleIds: ['hybrid-service-role'],
    });
    // Assess
    expect(findingOf(result, 'hybrid-service-role', ACTIVATION).reason).toBe('HYBRID_ROLE_OK');
    expect(findingOf(result, 'hybrid-service-role', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee').reason).toBe(
      'HYBRID_ROLE_NOT_FOUND',
    );
  });

  it.each([
    { case: 'hybrid node', resourceId: MI },
    { case: 'activation (reported on the account)', resourceId: ACCOUNT },
  ])('IAM section denied → ERROR API_CALL_DENIED for the $case, never PASS/FAIL', ({ resourceId }) => {
    // Prepare: the role would pass if IAM were readable.
    const snapshot = aSnapshot({
      infos: [instanceInfo({ id: MI, iamRole: ROLE })],
      activations: [anActivation({ id: ACTIVATION, role: ROLE, expires: '2027-06-01T00:00:00+00:00' })],
      roles: [ssmRole()],
      calls: { 'iam:GetAccountAuthorizationDetails': { status: 'denied', error: 'AccessDenied' } },
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['hybrid-service-role'] });
    const finding = findingOf(result, 'hybrid-service-role', resourceId);
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: 'ERROR',
      reason: 'API_CALL_DENIED',
    });
    expect(finding.message).toContain('iam:GetAccountAuthorizationDetails');
    expect(result.findings.every((f) => f.status === 'ERROR')).toBe(true);
  });
});
