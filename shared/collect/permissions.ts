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

/** sts:GetCallerIdentity needs no permission (AWS allows it to every principal), so it is not listed. */
export function readOnlyPolicy(): Record<string, unknown> {
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
        Resource: [
          'arn:aws:ssm:*:*:servicesetting/ssm/managed-instance/default-ec2-instance-management-role',
          'arn:aws:ssm:*:*:servicesetting/ssm/managed-instance/activation-tier',
        ],
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
