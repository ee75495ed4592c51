import {
  ACCOUNT as ACCOUNT_ID,
  FULL_AWS_ACCESS,
  OU_ID,
  ROOT_ID,
  aManagedPolicy,
  anOrganization,
  anScp,
  aNetwork,
  anInstance,
  aRole,
  aSnapshot,
  allow,
  deny,
  dhmcSetting,
  instanceInfo,
  managedPolicyArn,
  policy,
  tierSetting,
  trustFor,
  type InfoSpec,
  type InstanceSpec,
  type OrganizationsInput,
  type RoleDetailInput,
  type ScpSpec,
} from '../support/builders';
import { CORE_AGENT_ACTIONS, POLICY_ARNS, policyArnsFor } from '../../shared/knowledge/ssm-requirements';
import { audit, findingOf } from '../support/helpers';

const ID = 'i-0123456789abcdef0';
const DHMC_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';
const CORE = POLICY_ARNS.core;
const DEPRECATED = POLICY_ARNS.deprecatedEc2RoleForSsm;
const INSTANCE_ARN = `arn:aws:ec2:eu-west-1:123456789012:instance/${ID}`;
const MESSAGE_ACTIONS = CORE_AGENT_ACTIONS.filter((a) => !a.startsWith('ssm:'));

/** AWS's confused-deputy trust for Systems Manager (hybrid-multicloud-service-role.html), for this account. */
const confusedDeputyTrust = (account: string, region: string) =>
  policy({
    Effect: 'Allow',
    Principal: { Service: 'ssm.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: {
      StringEquals: { 'aws:SourceAccount': account },
      ArnEquals: { 'aws:SourceArn': `arn:aws:ssm:${region}:${account}:*` },
    },
  });

const profileRole = (spec: Partial<Parameters<typeof aRole>[0]> = {}) =>
  aRole({ name: 'SSMInstanceProfile', profiles: ['SSMInstanceProfile'], managed: [CORE], ...spec });
const dhmcRole = (spec: Partial<Parameters<typeof aRole>[0]> = {}) =>
  aRole({
    name: DHMC_ROLE,
    path: '/service-role/',
    trust: trustFor('ssm.amazonaws.com'),
    managed: [POLICY_ARNS.dhmcDefault],
    ...spec,
  });

interface Row {
  case: string;
  instance?: Partial<InstanceSpec>;
  info?: Partial<InfoSpec> | null;
  roles: RoleDetailInput[];
  dhmc?: string | null;
  calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
  policies?: ReturnType<typeof aManagedPolicy>[];
  partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
  status: string;
  reason: string;
  evidence?: Record<string, unknown>;
  /** Text the remediation must contain. */
  remediation?: string;
}

const rows: Row[] = [
  {
    case: 'profile with AmazonSSMManagedInstanceCore',
    roles: [profileRole()],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'profile with the deprecated AmazonEC2RoleforSSM',
    roles: [profileRole({ managed: [DEPRECATED] })],
    status: 'WARN',
    reason: 'DEPRECATED_POLICY',
  },
  {
    case: 'no instance profile and DHMC off',
    instance: { profile: null },
    roles: [],
    status: 'FAIL',
    reason: 'NO_INSTANCE_PROFILE_AND_DHMC_OFF',
    remediation: `aws ec2 associate-iam-instance-profile --instance-id ${ID} --iam-instance-profile Name=SSMInstanceProfile`,
  },
  {
    case: 'no profile, DHMC on, IMDSv2, agent new enough',
    instance: { profile: null },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'PASS',
    reason: 'DHMC_PATH_OK',
    evidence: { credentialSource: 'dhmc', dhmcRole: DHMC_ROLE },
  },
  {
    case: 'DHMC on but the instance allows IMDSv1',
    instance: { profile: null, imds: 'optional' },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_REQUIRES_IMDSV2',
  },
  {
    // The version is checked after IMDSv2: recorded so a fix plan updates the agent with IMDSv2.
    case: 'DHMC on, IMDSv1 allowed and an agent below 3.2.582.0: IMDSv2 is named, the version recorded',
    instance: { profile: null, imds: 'optional' },
    info: { agentVersion: '3.1.1732.0' },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_REQUIRES_IMDSV2',
    evidence: { agentVersion: '3.1.1732.0' },
  },
  {
    case: 'DHMC on but the metadata endpoint is disabled',
    instance: { profile: null, imds: 'disabled' },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_REQUIRES_IMDSV2',
  },
  {
    case: 'DHMC on with an agent below 3.2.582.0',
    instance: { profile: null },
    info: { agentVersion: '3.1.1732.0' },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_AGENT_TOO_OLD',
    evidence: { agentVersion: '3.1.1732.0', minimumAgentVersion: '3.2.582.0' },
  },
  {
    case: 'DHMC on, agent exactly 3.2.582.0',
    instance: { profile: null },
    info: { agentVersion: '3.2.582.0' },
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'PASS',
    reason: 'DHMC_PATH_OK',
  },
  {
    case: 'DHMC on, agent version unknown (never registered)',
    instance: { profile: null },
    info: null,
    roles: [dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'WARN',
    reason: 'DHMC_AGENT_VERSION_UNKNOWN',
  },
  {
    case: 'DHMC role does not trust ssm.amazonaws.com',
    instance: { profile: null },
    roles: [dhmcRole({ trust: trustFor('ec2.amazonaws.com') })],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_ROLE_TRUST_MISSING',
  },
  {
    case: 'DHMC role has no policy',
    instance: { profile: null },
    roles: [dhmcRole({ managed: [] })],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_ROLE_MISSING_ACTIONS',
  },
  {
    case: 'DHMC names a role that does not exist',
    instance: { profile: null },
    roles: [],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_ROLE_NOT_FOUND',
  },
  {
    case: 'shadowing trap: profile allows only ssm:UpdateInstanceInformation while DHMC is on',
    roles: [
      profileRole({ managed: [], inline: { register: policy(allow('ssm:UpdateInstanceInformation')) } }),
      dhmcRole(),
    ],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_SHADOWED_BY_PROFILE',
    evidence: { dhmc: 'on' },
  },
  {
    case: 'profile allows only ssm:UpdateInstanceInformation, DHMC off',
    roles: [
      profileRole({ managed: [], inline: { register: policy(allow('ssm:UpdateInstanceInformation')) } }),
    ],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS',
  },
  {
    case: 'profile without UpdateInstanceInformation falls back to a valid DHMC',
    roles: [
      profileRole({ managed: [], inline: { cw: policy(allow('cloudwatch:PutMetricData')) } }),
      dhmcRole(),
    ],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'PASS',
    reason: 'DHMC_PATH_OK',
  },
  {
    case: 'profile explicitly denies UpdateInstanceInformation: the agent falls back to DHMC',
    roles: [profileRole({ inline: { guard: policy(deny('ssm:UpdateInstanceInformation')) } }), dhmcRole()],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'PASS',
    reason: 'DHMC_PATH_OK',
  },
  {
    case: 'conditional grant (aws:SourceVpc) is a WARN, never a PASS',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow([...CORE_AGENT_ACTIONS], '*', {
              Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
            }),
          ),
        },
      }),
    ],
    status: 'WARN',
    reason: 'CONDITIONAL_GRANT',
  },
  {
    case: 'explicit Deny on ssmmessages:* beats the Core grant',
    roles: [profileRole({ inline: { 'no-sessions': policy(deny('ssmmessages:*')) } })],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS',
    evidence: {
      deniedActions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
    },
  },
  {
    case: 'NotAction grant (everything except iam:*) covers the core actions',
    roles: [
      profileRole({
        managed: [],
        inline: { broad: policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }) },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'wildcard actions (ssm:*, ssmmessages:*, ec2messages:*) grant the core actions',
    roles: [
      profileRole({
        managed: [],
        inline: { wild: policy(allow(['SSM:*', 'ssmmessages:*', 'ec2messages:Get*', 'ec2messages:*'])) },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'permissions boundary without ssmmessages limits the Core grant',
    roles: [profileRole({ boundary: managedPolicyArn('Boundary') })],
    policies: [aManagedPolicy(managedPolicyArn('Boundary'), policy(allow(['ssm:*', 'ec2messages:*'])))],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS',
    // Attaching a policy cannot help: the fix is the boundary's.
    remediation:
      'Ask whoever owns the boundary to allow ssmmessages:CreateControlChannel, ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel in arn:aws:iam::123456789012:policy/Boundary, the permissions boundary of role SSMInstanceProfile',
    evidence: {
      missingActions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      // The identity policies allow them: the boundary is what a fix must change.
      decidingStatements: [
        { action: 'ssmmessages:CreateControlChannel', notAllowedBy: 'permissions boundary' },
        { action: 'ssmmessages:CreateDataChannel', notAllowedBy: 'permissions boundary' },
        { action: 'ssmmessages:OpenControlChannel', notAllowedBy: 'permissions boundary' },
        { action: 'ssmmessages:OpenDataChannel', notAllowedBy: 'permissions boundary' },
      ],
    },
  },
  {
    case: 'instance profile with no role, DHMC off',
    roles: [aRole({ name: 'Unrelated', managed: [CORE] })],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
    // The profile's name comes from its ARN: no <profile> placeholder.
    remediation: `aws iam add-role-to-instance-profile --instance-profile-name SSMInstanceProfile --role-name SSMInstanceProfile`,
  },
  {
    case: 'a customer managed policy whose document is not in the snapshot → ERROR',
    roles: [profileRole({ managed: [managedPolicyArn('NotCollected')] })],
    status: 'ERROR',
    reason: 'POLICY_DOCUMENT_UNAVAILABLE',
  },
  {
    case: 'the same grant read from a customer managed policy (URL-encoded, as IAM returns it)',
    roles: [profileRole({ managed: [managedPolicyArn('AgentPolicy')] })],
    policies: [aManagedPolicy(managedPolicyArn('AgentPolicy'), policy(allow([...CORE_AGENT_ACTIONS])))],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'no profile and ssm:GetServiceSetting denied → ERROR naming the permission',
    instance: { profile: null },
    roles: [],
    calls: { 'ssm:GetServiceSetting': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
    evidence: { call: 'ssm:GetServiceSetting' },
  },
  {
    case: 'a complete profile does not need the DHMC setting: GetServiceSetting denied still PASSes',
    roles: [profileRole()],
    calls: { 'ssm:GetServiceSetting': { status: 'denied', error: 'AccessDeniedException' } },
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'IAM denied → ERROR, never PASS or FAIL',
    roles: [profileRole()],
    calls: { 'iam:GetAccountAuthorizationDetails': { status: 'denied', error: 'AccessDenied' } },
    status: 'ERROR',
    reason: 'API_CALL_DENIED',
    evidence: { call: 'iam:GetAccountAuthorizationDetails' },
  },
  // --- Ask the question AWS asks: ssm:UpdateInstanceInformation names the instance's own ARN (issue 10) ---
  {
    case: 'Core plus Deny ssm:UpdateInstanceInformation on arn:aws:ec2:*:*:instance/*: the agent is denied on its own ARN',
    roles: [
      profileRole({
        inline: { guard: policy(deny('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/*')) },
      }),
    ],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
    evidence: { deniedActions: ['ssm:UpdateInstanceInformation'], evaluatedOn: INSTANCE_ARN },
  },
  {
    case: 'an Allow of ssm:UpdateInstanceInformation scoped to arn:aws:ec2:*:*:instance/* grants it',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/*'),
            allow(MESSAGE_ACTIONS),
          ),
        },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
    evidence: { evaluatedOn: INSTANCE_ARN },
  },
  {
    case: 'an Allow scoped to this instance by its full ARN grants it',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(allow('ssm:UpdateInstanceInformation', INSTANCE_ARN), allow(MESSAGE_ACTIONS)),
        },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'an Allow scoped to another instance does not register this one',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow(
              'ssm:UpdateInstanceInformation',
              'arn:aws:ec2:eu-west-1:123456789012:instance/i-0fffffffffffffff0',
            ),
            allow(MESSAGE_ACTIONS),
          ),
        },
      }),
    ],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
    evidence: { missingActions: ['ssm:UpdateInstanceInformation'] },
  },
  {
    // IAM User Guide: "If the * wildcard is the last character of a resource ARN segment, it can expand to
    // match beyond the colon boundaries".
    case: 'arn:aws:ec2:*:instance/* (a segment-final * expands past the colon) grants it',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:instance/*'),
            allow(MESSAGE_ACTIONS),
          ),
        },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  // --- Conditions with keys the snapshot answers are decided ---
  {
    case: 'a grant conditioned on aws:PrincipalAccount = this account is decided: PASS',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow([...CORE_AGENT_ACTIONS], '*', {
              Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
            }),
          ),
        },
      }),
    ],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  {
    case: 'a grant conditioned on aws:RequestedRegion = another region never applies: FAIL',
    roles: [
      profileRole({
        managed: [],
        inline: {
          agent: policy(
            allow([...CORE_AGENT_ACTIONS], '*', {
              Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
            }),
          ),
        },
      }),
    ],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
  },
  // --- Instance metadata: the agent needs IMDS on every path ---
  {
    case: 'complete profile but the metadata endpoint is disabled: the agent gets no credentials',
    instance: { imds: 'disabled' },
    roles: [profileRole()],
    status: 'FAIL',
    reason: 'METADATA_ENDPOINT_DISABLED',
    remediation: `aws ec2 modify-instance-metadata-options --instance-id ${ID} --http-endpoint enabled`,
  },
  {
    case: 'profile path with IMDSv1 allowed still works (only DHMC requires IMDSv2)',
    instance: { imds: 'optional' },
    roles: [profileRole()],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
  },
  // --- The DHMC role's trust conditions ---
  {
    case: "DHMC role with AWS's confused-deputy trust (this account, this region's SSM ARNs): PASS",
    instance: { profile: null },
    roles: [dhmcRole({ trust: confusedDeputyTrust('123456789012', 'eu-west-1') })],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'PASS',
    reason: 'DHMC_PATH_OK',
  },
  {
    case: 'DHMC role whose trust is limited to another account: FAIL',
    instance: { profile: null },
    roles: [dhmcRole({ trust: confusedDeputyTrust('999999999999', 'eu-west-1') })],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'FAIL',
    reason: 'DHMC_ROLE_TRUST_MISSING',
    evidence: {
      unmetTrustConditions: [expect.objectContaining({ keys: ['aws:SourceAccount', 'aws:SourceArn'] })],
    },
  },
  {
    case: 'DHMC role whose trust depends on aws:SourceOrgID (no Organization id in the snapshot): WARN',
    instance: { profile: null },
    roles: [
      dhmcRole({
        trust: policy({
          Effect: 'Allow',
          Principal: { Service: 'ssm.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceOrgID': 'o-a1b2c3d4e5' } },
        }),
      }),
    ],
    dhmc: `service-role/${DHMC_ROLE}`,
    status: 'WARN',
    reason: 'DHMC_ROLE_TRUST_CONDITIONAL',
  },
  // --- Partition-aware managed policy ARNs ---
  {
    case: 'aws-cn: the deprecated arn:aws-cn:...AmazonEC2RoleforSSM is recognised, the fix names arn:aws-cn',
    partition: 'aws-cn',
    roles: [profileRole({ managed: [policyArnsFor('aws-cn').deprecatedEc2RoleForSsm] })],
    status: 'WARN',
    reason: 'DEPRECATED_POLICY',
    remediation: 'arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore',
  },
  {
    case: 'aws-us-gov: AmazonSSMManagedInstanceCore in the GovCloud partition grants the core actions',
    partition: 'aws-us-gov',
    roles: [profileRole({ managed: [policyArnsFor('aws-us-gov').core] })],
    status: 'PASS',
    reason: 'PROFILE_GRANTS_CORE',
    evidence: { evaluatedOn: `arn:aws-us-gov:ec2:eu-west-1:123456789012:instance/${ID}` },
  },
  {
    case: 'aws-us-gov: a profile without actions gets an attach command in the GovCloud partition',
    partition: 'aws-us-gov',
    roles: [
      profileRole({ managed: [], inline: { register: policy(allow('ssm:UpdateInstanceInformation')) } }),
    ],
    status: 'FAIL',
    reason: 'PROFILE_MISSING_ACTIONS',
    remediation: '--policy-arn arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore',
  },
  {
    case: 'a stopped instance is still evaluated for permissions',
    instance: { state: 'stopped', profile: null },
    roles: [],
    status: 'FAIL',
    reason: 'NO_INSTANCE_PROFILE_AND_DHMC_OFF',
  },
];

describe('instance-permissions', () => {
  it.each(rows)('$case', (row) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, ...row.instance })],
      ec2: aNetwork(),
      infos: row.info === null ? [] : [instanceInfo({ id: ID, ...row.info })],
      roles: row.roles,
      policies: row.policies ?? [],
      settings: [dhmcSetting(row.dhmc ?? null), tierSetting('standard')],
      calls: row.calls,
      ...(row.partition ? { partition: row.partition } : {}),
    });
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['instance-permissions'] }),
      'instance-permissions',
      ID,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    expect(finding.message).not.toMatch(/\.\.|\(granted by/);
    if (row.evidence) expect(finding.evidence).toMatchObject(row.evidence);
    if (row.remediation) expect(finding.remediation).toContain(row.remediation);
    // Every ARN printed follows the snapshot's partition.
    if (row.partition && row.partition !== 'aws') expect(finding.remediation).not.toContain('arn:aws:');
    expect(finding.remediation.length).toBeGreaterThan(0);
    if (row.status === 'FAIL') expect(finding.remediation).not.toBe('No action needed.');
  });

  it("flags an IAM policy that uses the seed's setting name instead of the real DHMC setting id", () => {
    // Prepare: seed 002's example admin policy, copied verbatim.
    const admin = aRole({
      name: 'FleetAdmin',
      inline: {
        dhmc: policy(
          allow(
            ['ssm:GetServiceSetting', 'ssm:ResetServiceSetting', 'ssm:UpdateServiceSetting'],
            'arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/managed-instance/default-instance-management-role',
          ),
        ),
      },
    });
    // Act
    const result = audit(aSnapshot({ roles: [admin] }), { ruleIds: ['instance-permissions'] });
    // Assess
    const finding = findingOf(result, 'instance-permissions', '123456789012');
    expect(finding).toMatchObject({
      resourceType: 'Account',
      status: 'WARN',
      reason: 'DHMC_POLICY_USES_WRONG_SETTING_ID',
    });
    expect(finding.evidence).toMatchObject({
      policies: [{ role: 'FleetAdmin', policy: 'inline:FleetAdmin/dhmc' }],
    });
  });

  it("flags a customer managed policy with the seed's setting name that no role attaches (e.g. a user's)", () => {
    // Prepare: GetAccountAuthorizationDetails lists every customer managed policy, attached to a role or not.
    const arn = managedPolicyArn('dhmc-admins');
    const wrong = policy(
      allow(
        'ssm:UpdateServiceSetting',
        'arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/managed-instance/default-instance-management-role',
      ),
    );
    // Act
    const result = audit(aSnapshot({ policies: [aManagedPolicy(arn, wrong)] }), {
      ruleIds: ['instance-permissions'],
    });
    // Assess
    const finding = findingOf(result, 'instance-permissions', '123456789012');
    expect(finding).toMatchObject({ status: 'WARN', reason: 'DHMC_POLICY_USES_WRONG_SETTING_ID' });
    expect(finding.evidence).toMatchObject({ policies: [{ policy: arn }] });
  });

  it('passes the account check when policies use the real setting id', () => {
    const admin = aRole({
      name: 'FleetAdmin',
      inline: {
        dhmc: policy(
          allow(
            'ssm:UpdateServiceSetting',
            'arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/managed-instance/default-ec2-instance-management-role',
          ),
        ),
      },
    });
    const finding = findingOf(
      audit(aSnapshot({ roles: [admin] }), { ruleIds: ['instance-permissions'] }),
      'instance-permissions',
      '123456789012',
    );
    expect(finding.status).toBe('PASS');
    expect(finding.reason).toBe('DHMC_SETTING_ID_OK');
  });
});

/**
 * Service control policies (DESIGN §7) as one more layer for the agent's role: "there must be an explicit
 * Allow statement at every level from the root through each OU in the direct path to the account", and an
 * explicit Deny at any level denies
 * (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html);
 * SCPs do not affect the management account. The profile role is SSMInstanceProfile with
 * AmazonSSMManagedInstanceCore, so IAM alone passes.
 */
describe('instance-permissions: service control policies', () => {
  const PROFILE_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/SSMInstanceProfile`;
  const denySsm = anScp('p-denyssm1', 'DenySsm', deny('ssm:*', '*', { Sid: 'NoSsm' }));
  const denyMessages = anScp(
    'p-denymsg1',
    'DenyMessages',
    allow('ec2:*'),
    deny(['ssmmessages:*', 'ec2messages:*'], '*', { Sid: 'NoChannels' }),
  );
  const ec2Only = anScp('p-ec2only1', 'Ec2Only', allow(['ec2:*', 's3:*']));
  const agentAllowList = anScp(
    'p-agentok1',
    'AgentAllowList',
    allow(['ssm:UpdateInstanceInformation', 'ssmmessages:*', 'ec2messages:*']),
  );
  const ou = (scps: ScpSpec[] | null) => [{ id: OU_ID, name: 'Workloads', scps }];

  interface ScpRow {
    case: string;
    organizations?: OrganizationsInput;
    calls?: Record<string, { status: 'denied' | 'error'; error: string }>;
    instance?: Partial<InstanceSpec>;
    roles?: RoleDetailInput[];
    dhmc?: string | null;
    status: string;
    reason: string;
    /** Text the message must contain (policy, target, statement). */
    message?: string[];
    evidence?: Record<string, unknown>;
    remediation?: string[];
  }

  const scpRows: ScpRow[] = [
    {
      case: 'no organizations section: the layer is not evaluated, and the evidence says so',
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
      evidence: { scp: 'not collected' },
    },
    {
      case: 'FullAWSAccess at root, OU and account: allowed',
      organizations: anOrganization(),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
      evidence: {
        scp: {
          decision: 'allows',
          chain: [`root Root (${ROOT_ID})`, `OU Workloads (${OU_ID})`, `account prod (${ACCOUNT_ID})`],
        },
      },
    },
    {
      case: 'a Deny ssm:* attached at the root',
      organizations: anOrganization({ root: [FULL_AWS_ACCESS, denySsm] }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [
        'SCP DenySsm (p-denyssm1)',
        `root Root (${ROOT_ID})`,
        'ssm:UpdateInstanceInformation',
        INSTANCE_ARN,
        'Statement[0] (NoSsm)',
        'SSMInstanceProfile',
      ],
      evidence: { scp: 'denies', iamOutcome: 'PROFILE_GRANTS_CORE', credentialSource: 'profile' },
      remediation: [
        'Statement[0] (NoSsm) of SCP DenySsm (p-denyssm1)',
        `attached to root Root (${ROOT_ID})`,
        'aws organizations update-policy --policy-id p-denyssm1',
        'orgs_manage_policies_scps_evaluation.html',
      ],
    },
    {
      case: 'a Deny of the message services attached to the OU (statement 1)',
      organizations: anOrganization({ ous: ou([FULL_AWS_ACCESS, denyMessages]) }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [
        'SCP DenyMessages (p-denymsg1)',
        `OU Workloads (${OU_ID})`,
        'ssmmessages:CreateControlChannel',
        'ec2messages:GetMessages',
        'Statement[1] (NoChannels)',
      ],
    },
    {
      case: 'a Deny attached to the account itself',
      organizations: anOrganization({ account: [FULL_AWS_ACCESS, denySsm] }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['SCP DenySsm (p-denyssm1)', `account prod (${ACCOUNT_ID})`, 'Statement[0] (NoSsm)'],
    },
    {
      case: 'a NotAction Deny (everything but EC2 and S3) attached to the OU',
      organizations: anOrganization({
        ous: ou([
          FULL_AWS_ACCESS,
          anScp('p-notact01', 'OnlyEc2S3', { Effect: 'Deny', NotAction: ['ec2:*', 's3:*'], Resource: '*' }),
        ]),
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['SCP OnlyEc2S3 (p-notact01)', `OU Workloads (${OU_ID})`, 'Statement[0]'],
      evidence: {
        blockedBy: [
          {
            target: `OU Workloads (${OU_ID})`,
            decision: 'explicitDeny',
            actions: expect.arrayContaining([
              `ssm:UpdateInstanceInformation on ${INSTANCE_ARN}`,
              'ssmmessages:OpenDataChannel',
            ]),
            statements: [`Deny SCP OnlyEc2S3 (p-notact01) attached to OU Workloads (${OU_ID}) Statement[0]`],
          },
        ],
      },
    },
    {
      case: 'a NotAction Deny that exempts the agent services: allowed',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-notact02', 'ExemptAgent', {
            Effect: 'Deny',
            NotAction: ['ec2:*', 'ssm:*', 'ssmmessages:*', 'ec2messages:*'],
            Resource: '*',
          }),
        ],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
      evidence: { scp: { decision: 'allows' } },
    },
    {
      case: 'allow-list: the OU swapped FullAWSAccess for an SCP allowing only EC2 and S3 (implicit deny)',
      organizations: anOrganization({ ous: ou([ec2Only]) }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [
        `No SCP attached to OU Workloads (${OU_ID}) allows ssm:UpdateInstanceInformation`,
        'attached: Ec2Only (p-ec2only1)',
        'every level from the root to the account',
      ],
      evidence: {
        blockedBy: expect.arrayContaining([
          expect.objectContaining({ decision: 'notAllowed', attachedScps: ['Ec2Only (p-ec2only1)'] }),
        ]),
      },
      remediation: [`aws organizations attach-policy --policy-id p-FullAWSAccess --target-id ${OU_ID}`],
    },
    {
      case: 'allow-list at the account level that names the agent actions: allowed',
      organizations: anOrganization({ account: [agentAllowList] }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'allow-list at the root without the message services: implicit deny at the root',
      organizations: anOrganization({
        root: [anScp('p-rootal01', 'RootAllowList', allow(['ec2:*', 'ssm:*']))],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [`No SCP attached to root Root (${ROOT_ID}) allows ssmmessages:CreateControlChannel`],
      remediation: [`--target-id ${ROOT_ID}`],
    },
    {
      case: 'resource-aware: a Deny on every EC2 instance ARN denies this instance',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp(
            'p-instdeny',
            'NoInstances',
            deny('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/*'),
          ),
        ],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['SCP NoInstances (p-instdeny)', INSTANCE_ARN],
    },
    {
      case: 'resource-aware: a Deny on another instance ARN does not touch this one',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp(
            'p-instdeny',
            'NoOther',
            deny('ssm:UpdateInstanceInformation', 'arn:aws:ec2:*:*:instance/i-0ffffffffffffffff'),
          ),
        ],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'resource-aware: a Deny on hybrid managed-instance ARNs does not touch an EC2 instance',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-nohybrid', 'NoHybrid', deny('ssm:*', 'arn:aws:ssm:*:*:managed-instance/*')),
        ],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'condition decided: a region guard Deny that exempts this region does not apply',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-regions1', 'RegionGuard', {
            Sid: 'DenyOtherRegions',
            Effect: 'Deny',
            NotAction: ['iam:*', 'organizations:*'],
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } },
          }),
        ],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'condition decided: a region guard Deny that does not list this region denies',
      organizations: anOrganization({
        ous: ou([
          FULL_AWS_ACCESS,
          anScp('p-regions2', 'UsOnly', {
            Sid: 'DenyOutsideUs',
            Effect: 'Deny',
            NotAction: ['iam:*', 'organizations:*'],
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1'] } },
          }),
        ]),
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['SCP UsOnly (p-regions2)', `OU Workloads (${OU_ID})`, 'Statement[0] (DenyOutsideUs)'],
    },
    {
      case: 'condition decided: a Deny that exempts the agent role by aws:PrincipalArn does not apply',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-princ001', 'OnlyPlatformRoles', {
            Effect: 'Deny',
            Action: 'ssm:*',
            Resource: '*',
            Condition: {
              ArnNotLike: { 'aws:PrincipalArn': [PROFILE_ROLE_ARN, 'arn:aws:iam::*:role/Admin'] },
            },
          }),
        ],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'condition decided: a Deny that exempts only other roles by aws:PrincipalArn denies the agent role',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-princ002', 'OnlyAdmins', {
            Effect: 'Deny',
            Action: 'ssm:*',
            Resource: '*',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Admin' } },
          }),
        ],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['SCP OnlyAdmins (p-princ002)'],
    },
    {
      case: 'condition the audit cannot decide (a principal tag): WARN, never PASS',
      organizations: anOrganization({
        root: [
          FULL_AWS_ACCESS,
          anScp('p-tagged01', 'TeamOnly', {
            Sid: 'NeedsTeamTag',
            Effect: 'Deny',
            Action: 'ssmmessages:*',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:PrincipalTag/team': 'platform' } },
          }),
        ],
      }),
      status: 'WARN',
      reason: 'SCP_CONDITIONAL',
      message: ['Deny SCP TeamOnly (p-tagged01) attached to root Root', 'Statement[0] (NeedsTeamTag)'],
      remediation: ['aws:PrincipalTag/team'],
    },
    {
      case: 'the management account: SCPs do not apply, even a Deny',
      organizations: anOrganization({ managementAccountId: ACCOUNT_ID, root: [FULL_AWS_ACCESS, denySsm] }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
      evidence: { scp: expect.stringContaining('management account') },
    },
    {
      case: 'a Deny, but which account is the management account is unknown: ERROR, not FAIL',
      organizations: anOrganization({ managementAccountId: null, root: [FULL_AWS_ACCESS, denySsm] }),
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: ['management account'],
      evidence: {
        wouldBlock: expect.arrayContaining([expect.objectContaining({ decision: 'explicitDeny' })]),
      },
    },
    {
      case: 'management account unknown but everything allowed: PASS (the question does not arise)',
      organizations: anOrganization({ managementAccountId: null }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'DescribePolicy denied for the account SCP: ERROR naming the policy and the call',
      organizations: anOrganization({
        account: [FULL_AWS_ACCESS, agentAllowList],
        undescribed: ['p-agentok1'],
      }),
      calls: { 'organizations:DescribePolicy': { status: 'denied', error: 'AccessDeniedException' } },
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: [
        'AgentAllowList (p-agentok1)',
        `account prod (${ACCOUNT_ID})`,
        'organizations:DescribePolicy was denied: AccessDeniedException',
      ],
      remediation: ['allow organizations:DescribePolicy'],
    },
    {
      case: 'ListPoliciesForTarget failed for the OU: ERROR naming the OU',
      organizations: anOrganization({ ous: ou(null) }),
      calls: { 'organizations:ListPoliciesForTarget': { status: 'error', error: 'ThrottlingException' } },
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: [`OU Workloads (${OU_ID})`, 'organizations:ListPoliciesForTarget failed: ThrottlingException'],
    },
    {
      case: 'no organizations section because ListParents was denied: ERROR, never PASS',
      calls: { 'organizations:ListParents': { status: 'denied', error: 'AccessDeniedException' } },
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: ['organizations:ListParents was denied'],
      remediation: ['organizations:ListParents'],
    },
    {
      case: 'a chain that does not reach the account: ERROR',
      organizations: { ...anOrganization(), TargetChain: anOrganization().TargetChain!.slice(0, 2) },
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: [`does not end at account ${ACCOUNT_ID}`],
    },
    {
      case: 'a readable Deny at the root decides, even when an account SCP is unreadable',
      organizations: anOrganization({
        root: [FULL_AWS_ACCESS, denySsm],
        account: [FULL_AWS_ACCESS, agentAllowList],
        undescribed: ['p-agentok1'],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      evidence: { unreadable: [expect.stringContaining('AgentAllowList (p-agentok1)')] },
    },
    {
      case: 'no SCP attached anywhere (SCPs not enabled): not restricted',
      organizations: anOrganization({ root: [], ous: ou([]), account: [] }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
      evidence: { scp: expect.stringContaining('no SCP is attached') },
    },
    {
      case: 'an empty SCP list at one level among others: a collection gap, ERROR',
      organizations: anOrganization({ ous: ou([]) }),
      status: 'ERROR',
      reason: 'SCP_UNREADABLE',
      message: [`no SCP is listed for OU Workloads (${OU_ID})`],
    },
    {
      case: 'policies of other types (a tag policy) are not SCPs and restrict nothing',
      organizations: anOrganization({
        account: [FULL_AWS_ACCESS, { ...anScp('p-tagpol01', 'Tags', deny('*')), type: 'TAG_POLICY' }],
      }),
      status: 'PASS',
      reason: 'PROFILE_GRANTS_CORE',
    },
    {
      case: 'nested OUs: an implicit deny in the inner OU',
      organizations: anOrganization({
        ous: [
          { id: OU_ID, name: 'Workloads', scps: [FULL_AWS_ACCESS] },
          { id: 'ou-ab12-22222222', name: 'Sandbox', scps: [ec2Only] },
        ],
      }),
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: ['No SCP attached to OU Sandbox (ou-ab12-22222222)'],
    },
    {
      case: 'an IAM FAIL stands whatever the SCPs say (no profile, DHMC off)',
      organizations: anOrganization({ root: [FULL_AWS_ACCESS, denySsm] }),
      instance: { profile: null },
      roles: [],
      status: 'FAIL',
      reason: 'NO_INSTANCE_PROFILE_AND_DHMC_OFF',
    },
    {
      case: 'an IAM WARN (deprecated policy) with an SCP Deny: FAIL',
      organizations: anOrganization({ ous: ou([FULL_AWS_ACCESS, denySsm]) }),
      roles: [profileRole({ managed: [DEPRECATED] })],
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      evidence: { iamOutcome: 'DEPRECATED_POLICY' },
    },
    {
      case: 'the DHMC path: the SCP is asked for the DHMC role',
      organizations: anOrganization({ root: [FULL_AWS_ACCESS, denyMessages] }),
      instance: { profile: null },
      roles: [dhmcRole()],
      dhmc: `service-role/${DHMC_ROLE}`,
      status: 'FAIL',
      reason: 'SCP_DENIES_AGENT',
      message: [`to role ${DHMC_ROLE}`, 'SCP DenyMessages (p-denymsg1)'],
      evidence: { credentialSource: 'dhmc', iamOutcome: 'DHMC_PATH_OK' },
    },
  ];

  it.each(scpRows)('$case', (row) => {
    // Prepare
    const snapshot = aSnapshot({
      instances: [anInstance({ id: ID, ...row.instance })],
      ec2: aNetwork(),
      infos: [instanceInfo({ id: ID })],
      roles: row.roles ?? [profileRole()],
      settings: [dhmcSetting(row.dhmc ?? null), tierSetting('standard')],
      calls: row.calls,
      ...(row.organizations ? { organizations: row.organizations } : {}),
    });
    // Act
    const finding = findingOf(
      audit(snapshot, { ruleIds: ['instance-permissions'] }),
      'instance-permissions',
      ID,
    );
    // Assess
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: row.status,
      reason: row.reason,
    });
    for (const text of row.message ?? []) expect(finding.message).toContain(text);
    if (row.evidence) expect(finding.evidence).toMatchObject(row.evidence);
    for (const text of row.remediation ?? []) expect(finding.remediation).toContain(text);
    expect(finding.remediation).not.toMatch(/\{[A-Za-z]+\}/);
    if (row.status !== 'PASS') expect(finding.remediation).not.toBe('No action needed.');
  });
});
