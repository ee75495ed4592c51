/**
 * What SSM Agent needs, as facts from the seeds and the AWS documentation, in one place so rules,
 * the demo fleet and the tests agree on them.
 */

/** The actions SSM Agent calls to register and take work (AmazonSSMManagedInstanceCore grants exactly these). */
export const CORE_AGENT_ACTIONS = [
  'ssm:UpdateInstanceInformation',
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
] as const;

/** Seed 002: the agent tries the instance profile first and only falls back to DHMC when this is not allowed. */
export const REGISTRATION_ACTION = 'ssm:UpdateInstanceInformation';

/** The real GetServiceSetting id (the seed's IAM example ARN says `default-instance-management-role`). */
export const DHMC_SETTING_ID = '/ssm/managed-instance/default-ec2-instance-management-role';
/** The name in seed 002's example policy Resource ARN; a policy using it does not match the real setting. */
export const DHMC_SEED_SETTING_NAME = 'default-instance-management-role';
export const TIER_SETTING_ID = '/ssm/managed-instance/activation-tier';
export const DHMC_DEFAULT_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';

/** Seed 002: "all instances using IMDSv2 ... with SSM Agent version 3.2.582.0 or later". */
export const MIN_AGENT_FOR_DHMC = '3.2.582.0';
/** Agents from 3.3.40.0 talk to ssmmessages only, so the ec2messages endpoint becomes optional. */
export const AGENT_WITHOUT_EC2MESSAGES = '3.3.40.0';

export const SSM_SERVICE_PRINCIPAL = 'ssm.amazonaws.com';

export const POLICY_ARNS = {
  core: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
  dhmcDefault: 'arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy',
  deprecatedEc2RoleForSsm: 'arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM',
} as const;

/** Endpoint services the agent connects to over HTTPS (seed 000 step 6). */
export const AGENT_ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;
export type AgentEndpointService = (typeof AGENT_ENDPOINT_SERVICES)[number];

/** Seed 002 "(Optional) Create a custom policy for S3 bucket access": the eight AWS-managed buckets. */
export function regionalSsmBuckets(region: string): string[] {
  return [
    `aws-ssm-${region}`,
    `aws-windows-downloads-${region}`,
    `amazon-ssm-${region}`,
    `amazon-ssm-packages-${region}`,
    `${region}-birdwatcher-prod`,
    `aws-ssm-distributor-file-${region}`,
    `aws-ssm-document-attachments-${region}`,
    `patch-baseline-snapshot-${region}`,
  ];
}

/** Standard tier: "a maximum of 1,000 on-premises servers or VMs per AWS account per AWS Region" (seed 003). */
export const STANDARD_TIER_LIMIT = 1000;
