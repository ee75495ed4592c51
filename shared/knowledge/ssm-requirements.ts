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

/**
 * The partitions whose AWS managed policies the auditor knows. "The ARN format is
 * arn:partition:service:region:account-id:..." and AWS managed policies live in the account `aws` of each
 * partition (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html), so the same policy is
 * arn:aws:iam::aws:policy/..., arn:aws-cn:iam::aws:policy/... or arn:aws-us-gov:iam::aws:policy/...
 */
export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;

/** Path and name of each AWS managed policy the rules name. */
const MANAGED_POLICY_NAMES = {
  core: 'AmazonSSMManagedInstanceCore',
  dhmcDefault: 'AmazonSSMManagedEC2InstanceDefaultPolicy',
  deprecatedEc2RoleForSsm: 'service-role/AmazonEC2RoleforSSM',
} as const;

export type ManagedPolicyArns = { readonly [K in keyof typeof MANAGED_POLICY_NAMES]: string };

/** The managed policy ARNs of one partition: what to compare attachments with and to print in commands. */
export function policyArnsFor(partition: string): ManagedPolicyArns {
  return {
    core: `arn:${partition}:iam::aws:policy/${MANAGED_POLICY_NAMES.core}`,
    dhmcDefault: `arn:${partition}:iam::aws:policy/${MANAGED_POLICY_NAMES.dhmcDefault}`,
    deprecatedEc2RoleForSsm: `arn:${partition}:iam::aws:policy/${MANAGED_POLICY_NAMES.deprecatedEc2RoleForSsm}`,
  };
}

/** The commercial partition's ARNs (fixtures and tests); rules use policyArnsFor(inventory.partition). */
export const POLICY_ARNS = {
  core: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
  dhmcDefault: 'arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy',
  deprecatedEc2RoleForSsm: 'arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM',
} as const;

/** The partition of an ARN (`arn:aws-cn:iam::...` → `aws-cn`), or undefined for anything else. */
export function partitionOfArn(arn: string): string | undefined {
  const match = /^arn:([^:]+):/.exec(arn);
  return match?.[1];
}

/**
 * What the agent's requests name, per the Service Authorization Reference (Actions, resources, and
 * condition keys for AWS Systems Manager, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html):
 * ssm:UpdateInstanceInformation takes the resource types `instance`
 * (arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}) and `managed-instance`
 * (arn:${Partition}:ssm:${Region}:${Account}:managed-instance/${InstanceId}): the node's own ARN. The
 * ssmmessages and ec2messages actions list no resource type, so they are asked on "*".
 */
export function ec2InstanceArn(
  partition: string,
  region: string,
  account: string,
  instanceId: string,
): string {
  return `arn:${partition}:ec2:${region}:${account}:instance/${instanceId}`;
}
export function managedInstanceArn(
  partition: string,
  region: string,
  account: string,
  nodeId: string,
): string {
  return `arn:${partition}:ssm:${region}:${account}:managed-instance/${nodeId}`;
}
/** Every hybrid node an activation can register (their ids are mi- and 17 hex digits). */
export function anyManagedInstanceArn(partition: string, region: string, account: string): string {
  return managedInstanceArn(partition, region, account, 'mi-*');
}
/** The resource an agent action's request names: the node for ssm:*, "*" for the message services. */
export function agentActionResource(action: string, nodeArn: string): string {
  return action.toLowerCase().startsWith('ssm:') ? nodeArn : '*';
}

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

/** Standard tier: "a maximum of 1,000 on-premises servers or VMs per AWS account per AWS Region" (https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-configure-instance-tiers.html). */
export const STANDARD_TIER_LIMIT = 1000;
