import {
  ACCOUNT,
  FULL_AWS_ACCESS,
  OU_ID,
  allow,
  anActivation,
  anOrganization,
  anScp,
  deny,
  aRole,
  aSnapshot,
  instanceInfo,
  managedPolicyArn,
  policy,
  trustFor,
  type InstanceInformationInput,
  type OrganizationsInput,
  type RoleDetailInput,
  type ScpSpec,
} from '../support/builders';
import { POLICY_ARNS, policyArnsFor } from '../../shared/knowledge/ssm-requirements';
import { audit, findingOf } from '../support/helpers';

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

const ssmTrustWhen = (condition: Record<string, unknown>) =>
  policy({
    Effect: 'Allow',
    Principal: { Service: 'ssm.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: condition,
  });

/**
 * AWS's trust policy for the hybrid service role ("Be sure to specify your AWS account and the AWS Region in
 * the ARN where you created your hybrid activation", hybrid-multicloud-service-role.html).
 */
const documentedTrust = (account = ACCOUNT, region = 'eu-west-1') =>
  ssmTrustWhen({
    StringEquals: { 'aws:SourceAccount': account },
    ArnEquals: { 'aws:SourceArn': `arn:aws:ssm:${region}:${account}:*` },
  });

const MESSAGE_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
];

interface Given {
  roles: RoleDetailInput[];
  /** The IamRole the node / activation reports; null = it reports none. */
  iamRole: string | null;
  partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
}
interface Expected {
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
  /** Text the remediation must contain. */
  remediation?: string;
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
  // --- Trust conditions decided against the snapshot's account and region (issue 10) ---
  {
    case: "AWS's documented confused-deputy trust (aws:SourceAccount, aws:SourceArn of this region) passes",
    given: { roles: [ssmRole({ trust: documentedTrust() })], iamRole: ROLE },
    expected: { status: 'PASS', reason: 'HYBRID_ROLE_OK' },
  },
  {
    case: 'the same trust with ArnLike and a StringLike account passes',
    given: {
      roles: [
        ssmRole({
          trust: ssmTrustWhen({
            StringLike: { 'aws:SourceAccount': '1234*' },
            ArnLike: { 'aws:SourceArn': `arn:aws:ssm:*:${ACCOUNT}:*` },
          }),
        }),
      ],
      iamRole: ROLE,
    },
    expected: { status: 'PASS', reason: 'HYBRID_ROLE_OK' },
  },
  {
    case: 'trust limited to another account (aws:SourceAccount 999999999999) fails',
    given: {
      roles: [ssmRole({ trust: ssmTrustWhen({ StringEquals: { 'aws:SourceAccount': '999999999999' } }) })],
      iamRole: ROLE,
    },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_TRUST_MISSING',
      evidence: { unmetTrustConditions: [expect.objectContaining({ keys: ['aws:SourceAccount'] })] },
    },
  },
  {
    case: "trust limited to another region's SSM ARNs fails",
    given: { roles: [ssmRole({ trust: documentedTrust(ACCOUNT, 'us-east-1') })], iamRole: ROLE },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_TRUST_MISSING',
      evidence: { unmetTrustConditions: [expect.objectContaining({ keys: ['aws:SourceArn'] })] },
    },
  },
  {
    case: 'trust that depends on aws:SourceOrgID (no Organization id in the snapshot) is a WARN',
    given: {
      roles: [ssmRole({ trust: ssmTrustWhen({ StringEquals: { 'aws:SourceOrgID': 'o-a1b2c3d4e5' } }) })],
      iamRole: ROLE,
    },
    expected: { status: 'WARN', reason: 'HYBRID_ROLE_TRUST_CONDITIONAL' },
  },
  {
    case: 'trust narrower than the documented SourceArn (managed-instance/*) cannot be proven: WARN',
    given: {
      roles: [
        ssmRole({
          trust: ssmTrustWhen({
            ArnLike: { 'aws:SourceArn': `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/*` },
          }),
        }),
      ],
      iamRole: ROLE,
    },
    expected: { status: 'WARN', reason: 'HYBRID_ROLE_TRUST_CONDITIONAL' },
  },
  {
    case: 'a Deny for another account (StringNotEquals aws:SourceAccount) does not block this one',
    given: {
      roles: [
        ssmRole({
          trust: policy(
            { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
            {
              Effect: 'Deny',
              Principal: { Service: 'ssm.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } },
            },
          ),
        }),
      ],
      iamRole: ROLE,
    },
    expected: { status: 'PASS', reason: 'HYBRID_ROLE_OK' },
  },
  // --- ssm:UpdateInstanceInformation asked on the node's managed-instance ARN ---
  {
    case: 'Core plus Deny ssm:UpdateInstanceInformation on managed-instance/* fails',
    given: {
      roles: [
        ssmRole({
          inline: {
            guard: policy({
              Effect: 'Deny',
              Action: 'ssm:UpdateInstanceInformation',
              Resource: 'arn:aws:ssm:*:*:managed-instance/*',
            }),
          },
        }),
      ],
      iamRole: ROLE,
    },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      evidence: { deniedActions: ['ssm:UpdateInstanceInformation'] },
    },
  },
  {
    case: 'an Allow of ssm:UpdateInstanceInformation scoped to managed-instance/* grants it',
    given: {
      roles: [
        ssmRole({
          managed: [],
          inline: {
            agent: policy(
              allow('ssm:UpdateInstanceInformation', `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/*`),
              allow(MESSAGE_ACTIONS),
            ),
          },
        }),
      ],
      iamRole: ROLE,
    },
    expected: { status: 'PASS', reason: 'HYBRID_ROLE_OK' },
  },
  {
    case: 'an Allow scoped to EC2 instances (instance/*) does not cover a hybrid node',
    given: {
      roles: [
        ssmRole({
          managed: [],
          inline: {
            agent: policy(
              allow('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/*'),
              allow(MESSAGE_ACTIONS),
            ),
          },
        }),
      ],
      iamRole: ROLE,
    },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      evidence: { missingActions: ['ssm:UpdateInstanceInformation'] },
    },
  },
  // --- Partition-aware managed policy ARNs ---
  {
    case: 'aws-us-gov: the deprecated arn:aws-us-gov:...AmazonEC2RoleforSSM is recognised',
    given: {
      roles: [ssmRole({ managed: [policyArnsFor('aws-us-gov').deprecatedEc2RoleForSsm] })],
      iamRole: ROLE,
      partition: 'aws-us-gov',
    },
    expected: {
      status: 'WARN',
      reason: 'HYBRID_ROLE_DEPRECATED_POLICY',
      remediation: '--policy-arn arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore',
    },
  },
  {
    case: 'aws-cn: a missing role gets create commands in the China partition',
    given: { roles: [], iamRole: ROLE, partition: 'aws-cn' },
    expected: {
      status: 'FAIL',
      reason: 'HYBRID_ROLE_NOT_FOUND',
      remediation: 'arn:aws-cn:ssm:eu-west-1:123456789012:*',
    },
  },
  {
    case: 'no IamRole reported',
    given: { roles: [ssmRole()], iamRole: null },
    expected: { status: 'WARN', reason: 'HYBRID_ROLE_UNKNOWN', evidence: { iamRole: null } },
  },
  {
    case: 'core actions granted only under a Condition the audit cannot decide (aws:SourceVpc)',
    given: {
      roles: [
        ssmRole({
          managed: [],
          inline: {
            agent: policy(
              allow(['ssm:UpdateInstanceInformation', ...MESSAGE_ACTIONS], '*', {
                Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
              }),
            ),
          },
        }),
      ],
      iamRole: ROLE,
    },
    expected: {
      status: 'WARN',
      reason: 'CONDITIONAL_GRANT',
      remediation: `Remove the Condition or aws iam attach-role-policy --role-name ${ROLE} --policy-arn ${POLICY_ARNS.core}`,
    },
  },
  {
    case: 'a customer managed policy whose document is not in the snapshot → ERROR, never FAIL',
    given: { roles: [ssmRole({ managed: [managedPolicyArn('NotCollected')] })], iamRole: ROLE },
    expected: {
      status: 'ERROR',
      reason: 'POLICY_DOCUMENT_UNAVAILABLE',
      evidence: { unreadablePolicies: [managedPolicyArn('NotCollected')] },
      remediation: 'iam:GetAccountAuthorizationDetails',
    },
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
      return aSnapshot({ infos: [info], roles: given.roles, partition: given.partition });
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
      return aSnapshot({ activations: [activation], roles: given.roles, partition: given.partition });
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
    if (expected.remediation) expect(finding.remediation).toContain(expected.remediation);
    if (given.partition && given.partition !== 'aws') expect(finding.remediation).not.toContain('arn:aws:');
    if (expected.status === 'PASS') expect(finding.remediation).toBe('No action needed.');
    else expect(finding.remediation).not.toBe('No action needed.');
  });

  // A hybrid node is asked on its own ARN; an activation, which has no node yet, on every node it can
  // register (a representative ARN pattern, named in the evidence).
  it.each([
    {
      case: 'hybrid node named by the Allow',
      target: subjects[0],
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
      evidence: { evaluatedOn: `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/${MI}` },
    },
    {
      case: 'activation: the Allow names one node, not every node the activation registers',
      target: subjects[1],
      status: 'FAIL',
      reason: 'HYBRID_ROLE_MISSING_ACTIONS',
      evidence: {
        partiallyGrantedActions: ['ssm:UpdateInstanceInformation'],
        evaluatedOn: `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/mi-*`,
        representativeResource: expect.stringContaining('every node the activation can register'),
      },
    },
  ])('UpdateInstanceInformation allowed on one node only: $case', ({ target, status, reason, evidence }) => {
    // Prepare
    const role = ssmRole({
      managed: [],
      inline: {
        agent: policy(
          allow('ssm:UpdateInstanceInformation', `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/${MI}`),
          allow(MESSAGE_ACTIONS),
        ),
      },
    });
    // Act
    const finding = findingOf(
      audit(target.build({ roles: [role], iamRole: ROLE }), { ruleIds: ['hybrid-service-role'] }),
      'hybrid-service-role',
      target.resourceId,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({ status, reason });
    expect(finding.evidence).toMatchObject(evidence);
  });

  it.each([
    {
      target: subjects[0],
      fix: `aws ssm update-managed-instance-role --instance-id ${MI} --iam-role SSMServiceRole`,
    },
    { target: subjects[1], fix: `aws ssm delete-activation --activation-id ${ACTIVATION}` },
  ])('$target.subject without an IamRole: the fix names it by its id', ({ target, fix }) => {
    // Act
    const finding = findingOf(
      audit(target.build({ roles: [ssmRole()], iamRole: null }), { ruleIds: ['hybrid-service-role'] }),
      'hybrid-service-role',
      target.resourceId,
    );
    // Assess
    expect(finding.reason).toBe('HYBRID_ROLE_UNKNOWN');
    expect(finding.remediation).toContain(fix);
    expect(finding.remediation).not.toMatch(/<mi-id>|<id>/);
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

/**
 * Service control policies (DESIGN §7) for the hybrid service role: asked on the node's managed-instance
 * ARN, and for an activation on every node it can register
 * (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html).
 */
describe('hybrid-service-role: service control policies', () => {
  const NODE_ARN = `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/${MI}`;
  const denyHybrid = anScp(
    'p-nohybrid',
    'NoHybridRegistration',
    deny('ssm:UpdateInstanceInformation', 'arn:aws:ssm:*:*:managed-instance/*', { Sid: 'NoMi' }),
  );
  const ou = (scps: ScpSpec[]) => [{ id: OU_ID, name: 'Workloads', scps }];

  interface ScpRow {
    case: string;
    target: (typeof subjects)[number];
    organizations: OrganizationsInput | undefined;
    status: string;
    reason: string;
    message?: string[];
    evidence?: Record<string, unknown>;
    remediation?: string[];
  }

  it.each<ScpRow>([
    {
      case: 'hybrid node: no organizations section, the layer is not evaluated',
      target: subjects[0],
      organizations: undefined,
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
      evidence: { scp: 'not collected' },
    },
    {
      case: 'hybrid node: FullAWSAccess everywhere',
      target: subjects[0],
      organizations: anOrganization(),
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
      evidence: { scp: { decision: 'allows' } },
    },
    {
      case: 'hybrid node: a Deny on managed-instance/* attached to the OU',
      target: subjects[0],
      organizations: anOrganization({ ous: ou([FULL_AWS_ACCESS, denyHybrid]) }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [
        `Hybrid node ${MI}: SCP NoHybridRegistration (p-nohybrid) attached to OU Workloads (${OU_ID})`,
        `ssm:UpdateInstanceInformation on ${NODE_ARN}`,
        'Statement[0] (NoMi)',
        `role ${ROLE}`,
      ],
      evidence: { iamOutcome: 'HYBRID_ROLE_OK' },
    },
    {
      case: 'hybrid node: a Deny on EC2 instance ARNs does not touch a managed instance',
      target: subjects[0],
      organizations: anOrganization({
        root: [FULL_AWS_ACCESS, anScp('p-noec2ins', 'NoEc2', deny('ssm:*', 'arn:aws:ec2:*:*:instance/*'))],
      }),
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
    },
    {
      case: 'activation: a Deny on some of the nodes it can register (partial): FAIL naming the statement',
      target: subjects[1],
      organizations: anOrganization({
        account: [
          FULL_AWS_ACCESS,
          anScp(
            'p-somenode',
            'SomeNodes',
            deny('ssm:UpdateInstanceInformation', 'arn:aws:ssm:*:*:managed-instance/mi-0abc*', {
              Sid: 'Legacy',
            }),
          ),
        ],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [
        `Activation ${ACTIVATION}`,
        'SCP SomeNodes (p-somenode)',
        `account prod (${ACCOUNT})`,
        'Statement[0] (Legacy)',
      ],
      evidence: { representativeResource: expect.stringContaining('managed-instance/mi-*') },
    },
    {
      case: 'activation: an allow-list OU without the agent actions (implicit deny)',
      target: subjects[1],
      organizations: anOrganization({ ous: ou([anScp('p-ec2only1', 'Ec2Only', allow('ec2:*'))]) }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [`No SCP attached to OU Workloads (${OU_ID}) allows`],
      remediation: [`--target-id ${OU_ID}`],
    },
    {
      case: 'hybrid node: a Deny under a Condition the audit cannot decide',
      target: subjects[0],
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-tagged01', 'TeamOnly', {
            Effect: 'Deny',
            Action: 'ssm:*',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:PrincipalTag/team': 'platform' } },
          }),
        ],
      }),
      status: 'WARN',
      reason: 'SCP_CONDITIONAL',
      message: ['TeamOnly (p-tagged01)'],
    },
    {
      case: 'hybrid node: an SCP whose content could not be read',
      target: subjects[0],
      organizations: anOrganization({ ous: ou([FULL_AWS_ACCESS, denyHybrid]), undescribed: ['p-nohybrid'] }),
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: [`NoHybridRegistration (p-nohybrid) attached to OU Workloads (${OU_ID})`],
      remediation: ['organizations:DescribePolicy'],
    },
    {
      case: 'hybrid node in the management account: SCPs do not apply',
      target: subjects[0],
      organizations: anOrganization({ managementAccountId: ACCOUNT, ous: ou([FULL_AWS_ACCESS, denyHybrid]) }),
      status: 'PASS',
      reason: 'HYBRID_ROLE_OK',
    },
  ])('$case', ({ target, organizations, status, reason, message, evidence, remediation }) => {
    // Prepare
    const snapshot = {
      ...target.build({ roles: [ssmRole()], iamRole: ROLE }),
      ...(organizations ? { organizations } : {}),
    };
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['hybrid-service-role'] }),
      'hybrid-service-role',
      target.resourceId,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({ status, reason });
    for (const text of message ?? []) expect(finding.message).toContain(text);
    if (evidence) expect(finding.evidence).toMatchObject(evidence);
    for (const text of remediation ?? []) expect(finding.remediation).toContain(text);
    if (status !== 'PASS') expect(finding.remediation).not.toBe('No action needed.');
  });
});
