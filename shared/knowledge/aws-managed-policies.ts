/**
 * Documents of the AWS managed policies the rules reason about. A snapshot built from
 * GetAccountAuthorizationDetails carries them in `iam.Policies`, but one assembled by hand from
 * `aws iam list-attached-role-policies` often does not; these copies let the evaluator decide anyway
 * (evidence then says the built-in copy was used). Versions as published by AWS.
 */
import { PARTITIONS, policyArnsFor } from './ssm-requirements';

const ssmAgentStatement = (extra: string[]) => ({
  Effect: 'Allow',
  Action: [
    'ssm:DescribeAssociation',
    'ssm:GetDeployablePatchSnapshotForInstance',
    'ssm:GetDocument',
    'ssm:DescribeDocument',
    'ssm:GetManifest',
    ...extra,
    'ssm:ListAssociations',
    'ssm:ListInstanceAssociations',
    'ssm:PutInventory',
    'ssm:PutComplianceItems',
    'ssm:PutConfigurePackageResult',
    'ssm:UpdateAssociationStatus',
    'ssm:UpdateInstanceAssociationStatus',
    'ssm:UpdateInstanceInformation',
  ],
  Resource: '*',
});
const ssmMessages = {
  Effect: 'Allow',
  Action: [
    'ssmmessages:CreateControlChannel',
    'ssmmessages:CreateDataChannel',
    'ssmmessages:OpenControlChannel',
    'ssmmessages:OpenDataChannel',
  ],
  Resource: '*',
};
const ec2Messages = {
  Effect: 'Allow',
  Action: [
    'ec2messages:AcknowledgeMessage',
    'ec2messages:DeleteMessage',
    'ec2messages:FailMessage',
    'ec2messages:GetEndpoint',
    'ec2messages:GetMessages',
    'ec2messages:SendReply',
  ],
  Resource: '*',
};

/** The documents, by the policy's key in policyArnsFor (the same in every partition: all Resource "*"). */
const DOCUMENTS = {
  core: {
    Version: '2012-10-17',
    Statement: [ssmAgentStatement(['ssm:GetParameter', 'ssm:GetParameters']), ssmMessages, ec2Messages],
  },
  dhmcDefault: {
    Version: '2012-10-17',
    Statement: [ssmAgentStatement([]), ssmMessages, ec2Messages],
  },
  deprecatedEc2RoleForSsm: {
    Version: '2012-10-17',
    Statement: [
      ssmAgentStatement(['ssm:GetParameters']),
      ssmMessages,
      ec2Messages,
      { Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: '*' },
      { Effect: 'Allow', Action: ['ec2:DescribeInstanceStatus'], Resource: '*' },
      { Effect: 'Allow', Action: ['ds:CreateComputer', 'ds:DescribeDirectories'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:DescribeLogGroups',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          's3:GetBucketLocation',
          's3:PutObject',
          's3:GetObject',
          's3:GetEncryptionConfiguration',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
        ],
        Resource: '*',
      },
    ],
  },
} as const;

/** By ARN, in every partition the auditor knows (arn:aws:..., arn:aws-cn:..., arn:aws-us-gov:...). */
export const AWS_MANAGED_POLICY_DOCUMENTS: Readonly<Record<string, unknown>> = Object.fromEntries(
  PARTITIONS.flatMap((partition) => {
    const arns = policyArnsFor(partition);
    return (Object.keys(DOCUMENTS) as (keyof typeof DOCUMENTS)[]).map((key) => [arns[key], DOCUMENTS[key]]);
  }),
);
