/**
 * IAM documents shared by the demo and synthetic fleets: the AWS managed policies as
 * GetAccountAuthorizationDetails returns them, and the customer policies seed 002 talks about.
 */
import { AWS_MANAGED_POLICY_DOCUMENTS } from '../../shared/knowledge/aws-managed-policies';
import { regionalSsmBuckets } from '../../shared/knowledge/ssm-requirements';
import { REGION, allow, managedPolicyArn, policy, type PolicyDoc } from './builders';

/** URL-encoded, as GetAccountAuthorizationDetails returns every policy document. */
export const encoded = (doc: PolicyDoc): string => encodeURIComponent(JSON.stringify(doc));

/** The published document of an AWS managed policy the rules reason about (Core, DHMC default, EC2RoleforSSM). */
export function awsManagedDocument(arn: string): PolicyDoc {
  const doc = AWS_MANAGED_POLICY_DOCUMENTS[arn];
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { Statement?: unknown }).Statement)) {
    throw new Error(`no built-in document for ${arn}`);
  }
  return doc as PolicyDoc;
}

export const S3_EXACT_ARN = managedPolicyArn('SSMRegionalBucketsReadOnly');
export const S3_WILDCARD_ARN = managedPolicyArn('SSMBucketsAnyRegion');
export const POWER_USER_ARN = 'arn:aws:iam::aws:policy/PowerUserAccess';

/** Seed 002 "(Optional) Create a custom policy for S3 bucket access", naming the region's eight buckets. */
export const s3ExactPolicy = (region = REGION): PolicyDoc =>
  policy(
    allow(
      's3:GetObject',
      regionalSsmBuckets(region).map((bucket) => `arn:aws:s3:::${bucket}/*`),
      { Sid: 'SsmRegionalBuckets' },
    ),
  );

/** The shortcut seed 002's "Important" box warns about: region wildcards grant buckets nobody meant. */
export const s3WildcardPolicy: PolicyDoc = policy(
  allow(
    's3:GetObject',
    [
      'arn:aws:s3:::aws-ssm-*/*',
      'arn:aws:s3:::aws-windows-downloads-*/*',
      'arn:aws:s3:::amazon-ssm-*/*',
      'arn:aws:s3:::*-birdwatcher-prod/*',
      'arn:aws:s3:::patch-baseline-snapshot-*/*',
    ],
    { Sid: 'SsmBucketsEveryRegion' },
  ),
);

/** AWS's PowerUserAccess grants through NotAction, which the evaluator must expand. */
export const powerUserAccess: PolicyDoc = policy(
  { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
  allow([
    'iam:CreateServiceLinkedRole',
    'iam:DeleteServiceLinkedRole',
    'iam:ListRoles',
    'organizations:DescribeOrganization',
    'account:ListRegions',
    'account:GetAccountInformation',
  ]),
);
