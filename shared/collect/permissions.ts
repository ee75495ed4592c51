/**
 * The read-only permissions the auditor needs for a live scan (`ssm-audit scan --region`,
 * `ssm-audit collect` and, later, the Lambda functions). One list, from which the ready IAM policy in
 * scripts/iam/ssm-audit-read-only-policy.json is generated and checked by a test; another test checks
 * that every call the collectors make is allowed by it.
 */
export const READ_ACTIONS = {
  ec2: [
    'ec2:DescribeInstances',
    'ec2:DescribeInternetGateways',
    'ec2:DescribeNatGateways',
    'ec2:DescribeNetworkAcls',
    'ec2:DescribeRouteTables',
    'ec2:DescribeSecurityGroups',
    'ec2:DescribeSubnets',
    'ec2:DescribeVpcAttribute',
    'ec2:DescribeVpcEndpoints',
    'ec2:DescribeVpcs',
  ],
  ssm: ['ssm:DescribeActivations', 'ssm:DescribeInstanceInformation'],
  /** Only the two settings the rules read. */
  ssmSettings: ['ssm:GetServiceSetting'],
  iam: [
    'iam:GetAccountAuthorizationDetails',
    'iam:GetInstanceProfile',
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:ListAttachedRolePolicies',
    'iam:ListInstanceProfilesForRole',
    'iam:ListRolePolicies',
  ],
} as const;

/** The AWS partitions: the standard one, China, and GovCloud (US). */
export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type Partition = (typeof PARTITIONS)[number];

/** The two service settings the rules read (GetServiceSetting is granted on these only). */
const SETTING_PATHS = [
  'ssm/managed-instance/default-ec2-instance-management-role',
  'ssm/managed-instance/activation-tier',
] as const;

/**
 * The read-only policy as a document, its setting ARNs built by `settingArn` (a plain string for one
 * partition, or a CloudFormation `Fn::Sub` that takes the stack's own partition).
 */
function policyDocument(settingArn: (path: string) => unknown): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SsmReadinessAuditorEc2Read',
        Effect: 'Allow',
        // EC2 Describe* actions support no resource-level permissions.
        Action: [...READ_ACTIONS.ec2],
        Resource: '*',
      },
      {
        Sid: 'SsmReadinessAuditorSsmRead',
        Effect: 'Allow',
        Action: [...READ_ACTIONS.ssm],
        Resource: '*',
      },
      {
        Sid: 'SsmReadinessAuditorSsmSettings',
        Effect: 'Allow',
        Action: [...READ_ACTIONS.ssmSettings],
        Resource: SETTING_PATHS.map(settingArn),
      },
      {
        Sid: 'SsmReadinessAuditorIamRead',
        Effect: 'Allow',
        // GetAccountAuthorizationDetails supports no resource-level permissions.
        Action: [...READ_ACTIONS.iam],
        Resource: '*',
      },
    ],
  };
}

/**
 * The IAM policy a live scan needs, for one partition (default `aws`; `aws-cn` for China, `aws-us-gov`
 * for GovCloud): scripts/iam/ssm-audit-read-only-policy.json is this for `aws`, and
 * `npx tsx scripts/dev/generate-iam-policy.ts --partition aws-cn` prints it for another partition.
 * sts:GetCallerIdentity needs no permission (AWS allows it to every principal), so it is not listed.
 */
export function readOnlyPolicy(partition: Partition = 'aws'): Record<string, unknown> {
  return policyDocument((path) => `arn:${partition}:ssm:*:*:servicesetting/${path}`);
}

/**
 * The same policy for the deployed functions' roles (serverless.yml includes
 * scripts/deploy/read-account-policy.json): every ARN takes the partition of the stack it is deployed in.
 */
export function readOnlyPolicyForCloudFormation(): Record<string, unknown> {
  return policyDocument((path) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:*:*:servicesetting/${path}` }));
}

/**
 * What Organization mode adds for the principal that runs it (`ssm-audit scan --org` from the
 * management or a delegated administrator account): Organizations reads for the account list and the
 * SCP chains (organization.ts), the enabled regions, and assuming the member role in each account.
 */
export const ORGANIZATION_READ_ACTIONS = [
  'ec2:DescribeRegions',
  'organizations:DescribeOrganization',
  'organizations:DescribePolicy',
  'organizations:ListAccounts',
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListParents',
  'organizations:ListPoliciesForTarget',
  'organizations:ListRoots',
] as const;

/**
 * The policy of the principal that runs an Organization audit from the CLI: the read-only policy (its
 * own account is audited too), the Organizations reads, and sts:AssumeRole on the member role only
 * (scripts/iam/ssm-audit-org-policy.json is this for `aws` and the default member role name).
 */
export function organizationPolicy(
  partition: Partition = 'aws',
  memberRoleName = 'SsmReadinessAuditorMember',
): Record<string, unknown> {
  const base = readOnlyPolicy(partition) as { Version: string; Statement: unknown[] };
  return {
    Version: base.Version,
    Statement: [
      ...base.Statement,
      {
        Sid: 'SsmReadinessAuditorOrganizationsRead',
        Effect: 'Allow',
        // Organizations and DescribeRegions support no resource-level permissions for these reads.
        Action: [...ORGANIZATION_READ_ACTIONS],
        Resource: '*',
      },
      {
        Sid: 'SsmReadinessAuditorAssumeMemberRole',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: `arn:${partition}:iam::*:role/${memberRoleName}`,
      },
    ],
  };
}
