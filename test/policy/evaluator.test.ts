import { AWS_MANAGED_POLICY_DOCUMENTS } from '../../shared/knowledge/aws-managed-policies';
import { parsePolicyDocument } from '../../shared/policy/document';
import {
  CompiledPolicySet,
  compileActionMatcher,
  evaluatePolicies,
  evaluatePoliciesOnSet,
  type NamedPolicy,
  type PolicyDecision,
  type ResourceSetDecision,
  type StatementEvidence,
} from '../../shared/policy/evaluator';

const CORE_ARN = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';

/** AmazonSSMManagedInstanceCore, default version v2, as published in the AWS managed policy reference. */
const MANAGED_INSTANCE_CORE = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'ssm:DescribeAssociation',
        'ssm:GetDeployablePatchSnapshotForInstance',
        'ssm:GetDocument',
        'ssm:DescribeDocument',
        'ssm:GetManifest',
        'ssm:GetParameter',
        'ssm:GetParameters',
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
    },
    {
      Effect: 'Allow',
      Action: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      Resource: '*',
    },
    {
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
    },
  ],
};

function policy(source: string, ...statements: Record<string, unknown>[]): NamedPolicy {
  return { source, document: parsePolicyDocument({ Version: '2012-10-17', Statement: statements }) };
}

const allow = (Action: unknown, Resource: unknown = '*', extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});
const deny = (Action: unknown, Resource: unknown = '*', extra: Record<string, unknown> = {}) => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
});
const CONDITION = { Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0abc' } } };

interface Case {
  case: string;
  identity: NamedPolicy[];
  boundary?: NamedPolicy;
  action: string;
  resource?: string;
  decision: PolicyDecision['decision'];
  missingIn?: PolicyDecision['missingIn'];
  /** Asserted exactly when given. */
  evidence?: StatementEvidence[];
}

function run(c: Case): PolicyDecision {
  return evaluatePolicies({
    identityPolicies: c.identity,
    ...(c.boundary ? { permissionsBoundary: c.boundary } : {}),
    action: c.action,
    ...(c.resource !== undefined ? { resource: c.resource } : {}),
  });
}

function assess(result: PolicyDecision, c: Case): void {
  expect(result.decision).toBe(c.decision);
  expect(result.missingIn).toBe(c.missingIn);
  if (c.decision === 'notAllowed') expect(result.evidence).toEqual([]);
  if (c.evidence) expect(result.evidence).toStrictEqual(c.evidence);
}

describe('actions', () => {
  it.each<Case>([
    {
      case: 'exact action allow',
      identity: [policy('inline:R/P', allow('ssm:UpdateInstanceInformation'))],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
    },
    {
      case: 'a different action is implicitly denied',
      identity: [policy('inline:R/P', allow('ssm:UpdateInstanceInformation'))],
      action: 'ssm:UpdateInstanceAssociationStatus',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'action names are case-insensitive (policy side)',
      identity: [policy('inline:R/P', allow('SSM:updateinstanceinformation'))],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
    },
    {
      case: 'action names are case-insensitive (request side)',
      identity: [policy('inline:R/P', allow('ssm:UpdateInstanceInformation'))],
      action: 'SSM:UPDATEINSTANCEINFORMATION',
      decision: 'allowed',
    },
    {
      case: '* alone matches every action',
      identity: [policy('inline:R/P', allow('*'))],
      action: 'ec2messages:GetMessages',
      decision: 'allowed',
    },
    {
      case: 'service wildcard ssm:* matches an ssm action',
      identity: [policy('inline:R/P', allow('ssm:*'))],
      action: 'ssm:PutInventory',
      decision: 'allowed',
    },
    {
      case: 'service wildcard ssm:* does not match ssmmessages actions',
      identity: [policy('inline:R/P', allow('ssm:*'))],
      action: 'ssmmessages:OpenDataChannel',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'prefix wildcard ssm:Update* matches',
      identity: [policy('inline:R/P', allow('ssm:Update*'))],
      action: 'ssm:UpdateInstanceAssociationStatus',
      decision: 'allowed',
    },
    {
      case: 'prefix wildcard ssm:Update* does not match ssm:PutInventory',
      identity: [policy('inline:R/P', allow('ssm:Update*'))],
      action: 'ssm:PutInventory',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'infix wildcard ssmmessages:Open*Channel matches OpenDataChannel',
      identity: [policy('inline:R/P', allow('ssmmessages:Open*Channel'))],
      action: 'ssmmessages:OpenDataChannel',
      decision: 'allowed',
    },
    {
      case: 'infix wildcard ssmmessages:Open*Channel does not match CreateDataChannel',
      identity: [policy('inline:R/P', allow('ssmmessages:Open*Channel'))],
      action: 'ssmmessages:CreateDataChannel',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: '? matches exactly one character',
      identity: [policy('inline:R/P', allow('ssm:GetParameter?'))],
      action: 'ssm:GetParameters',
      decision: 'allowed',
    },
    {
      case: '? does not match zero characters',
      identity: [policy('inline:R/P', allow('ssm:GetParameter?'))],
      action: 'ssm:GetParameter',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'regex metacharacters in a pattern are literal',
      identity: [policy('inline:R/P', allow('ssm.Get*'))],
      action: 'ssm:GetDocument',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'NotAction iam:* grants ssm:UpdateInstanceInformation',
      identity: [policy('inline:R/P', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 'NotAction',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'NotAction iam:* does not grant iam:PassRole',
      identity: [policy('inline:R/P', { Effect: 'Allow', NotAction: ['iam:*', 'sts:*'], Resource: '*' })],
      action: 'iam:PassRole',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
  ])('$case', (c) => {
    // Prepare: the case row

    // Act
    const result = run(c);

    // Assess
    assess(result, c);
  });
});

describe('resources', () => {
  const s3 = (Resource: unknown) => [policy('inline:R/S3', allow('s3:GetObject', Resource))];
  it.each<Case>([
    {
      case: 'exact resource',
      identity: s3('arn:aws:s3:::aws-ssm-eu-west-1/file'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-1/file',
      decision: 'allowed',
    },
    {
      case: 'exact resource does not match another object',
      identity: s3('arn:aws:s3:::aws-ssm-eu-west-1/file'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-1/other',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'resources are case-sensitive',
      identity: s3('arn:aws:s3:::aws-ssm-*/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::AWS-SSM-eu-west-1/file',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: '* resource matches any ARN',
      identity: s3('*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::anything/at/all',
      decision: 'allowed',
    },
    {
      case: '* resource matches a non-ARN value',
      identity: s3('*'),
      action: 's3:GetObject',
      resource: 'i-0123456789abcdef0',
      decision: 'allowed',
    },
    {
      case: 'default resource * is covered by Resource *',
      identity: s3(['arn:aws:s3:::x/*', '*']),
      action: 's3:GetObject',
      decision: 'allowed',
      evidence: [
        {
          source: 'inline:R/S3',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 's3:GetObject',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'default resource * is not covered by a narrower ARN wildcard',
      identity: s3('arn:aws:s3:::*'),
      action: 's3:GetObject',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'default resource * is not covered by ? although ? fits the one character',
      identity: s3('?'),
      action: 's3:GetObject',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'default resource * is covered by ** (still every resource)',
      identity: s3('**'),
      action: 's3:GetObject',
      decision: 'allowed',
    },
    {
      case: 'missing Resource is treated as *',
      identity: [policy('endpoint', { Effect: 'Allow', Principal: '*', Action: 's3:GetObject' })],
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket/key',
      decision: 'allowed',
    },
    {
      case: 'ARN wildcard arn:aws:s3:::aws-ssm-*/* matches the regional bucket',
      identity: s3('arn:aws:s3:::aws-ssm-*/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-1/file',
      decision: 'allowed',
    },
    {
      case: 'ARN wildcard arn:aws:s3:::aws-ssm-*/* does not match another bucket',
      identity: s3('arn:aws:s3:::aws-ssm-*/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::other/x',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'resource part wildcard spans / and :',
      identity: s3('arn:aws:s3:::bucket/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket/a/b:c/d',
      decision: 'allowed',
    },
    {
      case: 'account segment: arn:aws:ssm:*:123456789012:* matches own account',
      identity: [policy('inline:R/P', allow('ssm:GetParameter', 'arn:aws:ssm:*:123456789012:*'))],
      action: 'ssm:GetParameter',
      resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db',
      decision: 'allowed',
    },
    {
      case: 'account segment: arn:aws:ssm:*:123456789012:* does not match account 999999999999',
      identity: [policy('inline:R/P', allow('ssm:GetParameter', 'arn:aws:ssm:*:123456789012:*'))],
      action: 'ssm:GetParameter',
      resource: 'arn:aws:ssm:eu-west-1:999999999999:parameter/app/db',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      // IAM User Guide: "If the * wildcard is the last character of a resource ARN segment, it can expand
      // to match beyond the colon boundaries".
      case: '* as the last character of the region segment expands past the colon into the account',
      identity: [policy('inline:R/P', allow('ec2:StartInstances', 'arn:aws:ec2:*:instance/*'))],
      action: 'ec2:StartInstances',
      resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc',
      decision: 'allowed',
    },
    {
      case: '* inside the region segment (eu-*-1) does not cross a colon',
      identity: [policy('inline:R/P', allow('ec2:StartInstances', 'arn:aws:ec2:eu-*-1:instance/*'))],
      action: 'ec2:StartInstances',
      resource: 'arn:aws:ec2:eu-west:123456789012-1:instance/i-0abc',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'empty region and account segments match *',
      identity: s3('arn:aws:s3:*:*:bucket/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket/k',
      decision: 'allowed',
    },
    {
      case: '? in a segment matches one character',
      identity: s3('arn:aws:s3:::aws-ssm-eu-west-?/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-3/k',
      decision: 'allowed',
    },
    {
      case: 'NotResource applies to resources not listed',
      identity: [
        policy('inline:R/P', {
          Effect: 'Allow',
          Action: 's3:GetObject',
          NotResource: 'arn:aws:s3:::secret/*',
        }),
      ],
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-1/file',
      decision: 'allowed',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 's3:GetObject',
          matchedResource: 'NotResource',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'NotResource excludes the listed resources',
      identity: [
        policy('inline:R/P', {
          Effect: 'Allow',
          Action: 's3:GetObject',
          NotResource: 'arn:aws:s3:::secret/*',
        }),
      ],
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::secret/key',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'policy variable in Resource makes the grant conditional',
      identity: s3('arn:aws:s3:::home/${aws:username}/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::home/alice/notes.txt',
      decision: 'conditional',
      evidence: [
        {
          source: 'inline:R/S3',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 's3:GetObject',
          matchedResource: 'arn:aws:s3:::home/${aws:username}/*',
          conditional: true,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'policy variable pattern still needs the literal parts to match',
      identity: s3('arn:aws:s3:::home/${aws:username}/*'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::work/alice/notes.txt',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: '${*} is a literal asterisk, not a variable or wildcard',
      identity: s3('arn:aws:s3:::bucket/${*}'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket/*',
      decision: 'allowed',
    },
    {
      case: '${*} does not act as a wildcard',
      identity: s3('arn:aws:s3:::bucket/${*}'),
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::bucket/key',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'variables are literal text in a Version 2008-10-17 document',
      identity: [
        {
          source: 'inline:R/Old',
          document: parsePolicyDocument({
            Version: '2008-10-17',
            Statement: [allow('s3:GetObject', 'arn:aws:s3:::home/${aws:username}/*')],
          }),
        },
      ],
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::home/alice/notes.txt',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
  ])('$case', (c) => {
    // Prepare: the case row

    // Act
    const result = run(c);

    // Assess
    assess(result, c);
  });
});

describe('explicit deny and conditions', () => {
  it.each<Case>([
    {
      case: 'explicit Deny beats Allow in the same policy',
      identity: [policy('inline:R/P', allow('ssm:*'), deny('ssm:UpdateInstanceInformation'))],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'explicitDeny',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 1,
          effect: 'Deny',
          matchedAction: 'ssm:UpdateInstanceInformation',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'explicit Deny in a different policy beats the managed policy Allow',
      identity: [
        { source: CORE_ARN, document: parsePolicyDocument(MANAGED_INSTANCE_CORE) },
        policy('inline:R/NoMessages', { Sid: 'NoSession', ...deny('ssmmessages:*') }),
      ],
      action: 'ssmmessages:OpenControlChannel',
      decision: 'explicitDeny',
      evidence: [
        {
          source: 'inline:R/NoMessages',
          statementIndex: 0,
          sid: 'NoSession',
          effect: 'Deny',
          matchedAction: 'ssmmessages:*',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'Deny on a different resource does not block',
      identity: [policy('inline:R/P', allow('s3:GetObject'), deny('s3:GetObject', 'arn:aws:s3:::secret/*'))],
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::aws-ssm-eu-west-1/file',
      decision: 'allowed',
    },
    {
      case: 'NotAction Deny denies everything outside the list',
      identity: [policy('inline:R/P', allow('*'), { Effect: 'Deny', NotAction: 'ssm:*', Resource: '*' })],
      action: 'ec2messages:GetMessages',
      decision: 'explicitDeny',
    },
    {
      case: 'NotAction Deny leaves listed actions alone',
      identity: [policy('inline:R/P', allow('*'), { Effect: 'Deny', NotAction: 'ssm:*', Resource: '*' })],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
    },
    {
      case: 'explicit Deny applies even without any Allow',
      identity: [policy('inline:R/P', deny('*'))],
      action: 'ssm:GetDocument',
      decision: 'explicitDeny',
    },
    {
      case: 'conditional Allow is conditional',
      identity: [policy('inline:R/P', allow('ssm:UpdateInstanceInformation', '*', CONDITION))],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'conditional',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 'ssm:UpdateInstanceInformation',
          matchedResource: '*',
          conditional: true,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'empty Condition block is not a condition',
      identity: [policy('inline:R/P', allow('ssm:UpdateInstanceInformation', '*', { Condition: {} }))],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
    },
    {
      case: 'conditional plus unconditional Allow is allowed, with the unconditional one as evidence',
      identity: [
        policy('inline:R/Cond', allow('ssm:*', '*', CONDITION)),
        policy('inline:R/Plain', { Sid: 'Plain', ...allow('ssm:UpdateInstanceInformation') }),
      ],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
      evidence: [
        {
          source: 'inline:R/Plain',
          statementIndex: 0,
          sid: 'Plain',
          effect: 'Allow',
          matchedAction: 'ssm:UpdateInstanceInformation',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'conditional Deny makes an Allow conditional and is in the evidence',
      identity: [policy('inline:R/P', allow('ssm:*'), deny('ssm:*', '*', CONDITION))],
      action: 'ssm:PutInventory',
      decision: 'conditional',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 'ssm:*',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
        {
          source: 'inline:R/P',
          statementIndex: 1,
          effect: 'Deny',
          matchedAction: 'ssm:*',
          matchedResource: '*',
          conditional: true,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'conditional Deny without any Allow is notAllowed',
      identity: [policy('inline:R/P', deny('ssm:*', '*', CONDITION))],
      action: 'ssm:PutInventory',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'unconditional Deny beats a conditional Deny and any Allow',
      identity: [policy('inline:R/P', allow('*'), deny('ssm:*', '*', CONDITION), deny('ssm:PutInventory'))],
      action: 'ssm:PutInventory',
      decision: 'explicitDeny',
      evidence: [
        {
          source: 'inline:R/P',
          statementIndex: 2,
          effect: 'Deny',
          matchedAction: 'ssm:PutInventory',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    },
    {
      case: 'empty policy set is notAllowed',
      identity: [],
      action: 'ssm:UpdateInstanceInformation',
      decision: 'notAllowed',
      missingIn: 'identity',
      evidence: [],
    },
  ])('$case', (c) => {
    // Prepare: the case row

    // Act
    const result = run(c);

    // Assess
    assess(result, c);
  });
});

describe('permissions boundary', () => {
  const identity = [policy(CORE_ARN, allow('ssm:*'), allow('ssmmessages:*'))];
  it.each<Case>([
    {
      case: 'boundary missing the action is notAllowed, missingIn boundary',
      identity,
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('ssm:*')),
      action: 'ssmmessages:OpenDataChannel',
      decision: 'notAllowed',
      missingIn: 'boundary',
      evidence: [],
    },
    {
      case: 'boundary with a Deny is explicitDeny',
      identity,
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('*'), deny('ssmmessages:Open*')),
      action: 'ssmmessages:OpenDataChannel',
      decision: 'explicitDeny',
      evidence: [
        {
          source: 'arn:aws:iam::123456789012:policy/Boundary',
          statementIndex: 1,
          effect: 'Deny',
          matchedAction: 'ssmmessages:Open*',
          matchedResource: '*',
          conditional: false,
          scope: 'boundary',
        },
      ],
    },
    {
      case: 'boundary Deny applies even when the identity side does not allow',
      identity: [],
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', deny('*')),
      action: 'ssm:PutInventory',
      decision: 'explicitDeny',
    },
    {
      case: 'boundary allowing keeps allowed, with evidence from both sides',
      identity,
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('*')),
      action: 'ssm:UpdateInstanceInformation',
      decision: 'allowed',
      evidence: [
        {
          source: CORE_ARN,
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: 'ssm:*',
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
        {
          source: 'arn:aws:iam::123456789012:policy/Boundary',
          statementIndex: 0,
          effect: 'Allow',
          matchedAction: '*',
          matchedResource: '*',
          conditional: false,
          scope: 'boundary',
        },
      ],
    },
    {
      case: 'conditional boundary caps an unconditional identity Allow at conditional',
      identity,
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('*', '*', CONDITION)),
      action: 'ssm:UpdateInstanceInformation',
      decision: 'conditional',
    },
    {
      case: 'conditional identity Allow stays conditional under an allowing boundary',
      identity: [policy('inline:R/P', allow('ssm:*', '*', CONDITION))],
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('*')),
      action: 'ssm:UpdateInstanceInformation',
      decision: 'conditional',
    },
    {
      case: 'boundary allowing does not grant what identity lacks',
      identity: [],
      boundary: policy('arn:aws:iam::123456789012:policy/Boundary', allow('*')),
      action: 'ssm:UpdateInstanceInformation',
      decision: 'notAllowed',
      missingIn: 'identity',
    },
  ])('$case', (c) => {
    // Prepare: the case row

    // Act
    const result = run(c);

    // Assess
    assess(result, c);
  });
});

describe('AmazonSSMManagedInstanceCore', () => {
  const core = new CompiledPolicySet({
    identityPolicies: [{ source: CORE_ARN, document: parsePolicyDocument(MANAGED_INSTANCE_CORE) }],
  });
  const granted = MANAGED_INSTANCE_CORE.Statement.flatMap((statement, index) =>
    statement.Action.map((action) => ({ case: `grants ${action}`, action, index })),
  );

  it('lists all 25 actions of the current version', () => {
    expect(granted).toHaveLength(25);
  });

  it.each(granted)('$case', ({ action, index }) => {
    // Prepare: the compiled managed policy

    // Act
    const result = core.evaluate(action);

    // Assess
    expect(result).toStrictEqual({
      decision: 'allowed',
      evidence: [
        {
          source: CORE_ARN,
          statementIndex: index,
          effect: 'Allow',
          matchedAction: action,
          matchedResource: '*',
          conditional: false,
          scope: 'identity',
        },
      ],
    });
  });

  it.each([
    { case: 'does not grant ssm:SendCommand', action: 'ssm:SendCommand' },
    { case: 'does not grant s3:GetObject', action: 's3:GetObject' },
    { case: 'does not grant iam:PassRole', action: 'iam:PassRole' },
    { case: 'does not grant ssm:GetParametersByPath', action: 'ssm:GetParametersByPath' },
  ])('$case', ({ action }) => {
    // Prepare: the compiled managed policy

    // Act
    const result = core.evaluate(action);

    // Assess
    expect(result).toStrictEqual({ decision: 'notAllowed', evidence: [], missingIn: 'identity' });
  });
});

describe('CompiledPolicySet', () => {
  it('answers repeated and differently-cased questions consistently with evaluatePolicies', () => {
    // Prepare
    const input = {
      identityPolicies: [
        policy(
          'inline:R/P',
          allow('ssm:Get*', 'arn:aws:ssm:*:123456789012:parameter/*'),
          deny('ssm:GetDocument'),
        ),
      ],
    };
    const set = new CompiledPolicySet(input);
    const questions: [string, string | undefined][] = [
      ['ssm:GetParameter', 'arn:aws:ssm:eu-west-1:123456789012:parameter/a'],
      ['SSM:GETPARAMETER', 'arn:aws:ssm:eu-west-1:123456789012:parameter/a'],
      ['ssm:GetParameter', 'arn:aws:ssm:eu-west-1:999999999999:parameter/a'],
      ['ssm:GetDocument', undefined],
      ['ssm:GetParameter', undefined],
    ];

    // Act
    const first = questions.map(([action, resource]) => set.evaluate(action, resource).decision);
    const second = questions.map(([action, resource]) => set.evaluate(action, resource).decision);
    const oneShot = questions.map(
      ([action, resource]) =>
        evaluatePolicies({ ...input, action, ...(resource !== undefined ? { resource } : {}) }).decision,
    );

    // Assess
    expect(first).toEqual(['allowed', 'allowed', 'notAllowed', 'explicitDeny', 'notAllowed']);
    expect(second).toEqual(first);
    expect(oneShot).toEqual(first);
  });

  it('returns frozen decisions so a shared memoized answer cannot be corrupted', () => {
    // Prepare
    const set = new CompiledPolicySet({ identityPolicies: [policy('inline:R/P', allow('*'))] });

    // Act
    const result = set.evaluate('ssm:PutInventory');

    // Assess
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.evidence)).toBe(true);
    expect(() => result.evidence.push(result.evidence[0] as StatementEvidence)).toThrow(TypeError);
  });
});

describe('compileActionMatcher', () => {
  it.each([
    {
      case: 'exact pattern preferred in the report',
      patterns: ['*', 'ssm:*', 'ssm:GetDocument'],
      expected: 'ssm:GetDocument',
    },
    { case: 'wildcard pattern reported as written', patterns: ['SSM:Get*'], expected: 'SSM:Get*' },
    { case: 'no match', patterns: ['ec2:*'], expected: undefined },
  ])('$case', ({ patterns, expected }) => {
    // Prepare
    const match = compileActionMatcher(patterns);

    // Act
    const result = match('ssm:getdocument');

    // Assess
    expect(result).toBe(expected);
  });
});

describe('built-in AWS managed policy copies', () => {
  // The engine falls back to shared/knowledge/aws-managed-policies.ts when a snapshot lacks a managed policy;
  // this test keeps that copy equal, action for action, to the independently transcribed one above.
  it('AmazonSSMManagedInstanceCore built-in copy grants exactly the published actions', () => {
    const { AWS_MANAGED_POLICY_DOCUMENTS } =
      require('../../shared/knowledge/aws-managed-policies') as typeof import('../../shared/knowledge/aws-managed-policies');
    const actionsOf = (doc: unknown) =>
      parsePolicyDocument(doc)
        .Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : []))
        .sort();
    expect(actionsOf(AWS_MANAGED_POLICY_DOCUMENTS[CORE_ARN])).toEqual(actionsOf(MANAGED_INSTANCE_CORE));
  });
});

// ---------------------------------------------------------------------------------------------------
// Set-valued resources: every object of bucket/*, every node an activation registers (issue 10)

describe('resource sets', () => {
  const BUCKET = 'arn:aws:s3:::aws-ssm-eu-west-1/*';
  const get = (resource: unknown, extra: Record<string, unknown> = {}) =>
    allow('s3:GetObject', resource, extra);

  it.each<{
    case: string;
    identity: NamedPolicy[];
    boundary?: NamedPolicy;
    resources?: string;
    decision: ResourceSetDecision['decision'];
    missingIn?: ResourceSetDecision['missingIn'];
  }>([
    {
      case: 'the exact bucket/* pattern grants every object',
      identity: [policy('p', get(BUCKET))],
      decision: 'allowed',
    },
    { case: '* grants every object', identity: [policy('p', get('*'))], decision: 'allowed' },
    {
      case: 'a region wildcard (aws-ssm-*/*) grants every object',
      identity: [policy('p', get('arn:aws:s3:::aws-ssm-*/*'))],
      decision: 'allowed',
    },
    {
      case: 'bucket/? grants one-character keys only: partial (the ? is not the set)',
      identity: [policy('p', get('arn:aws:s3:::aws-ssm-eu-west-1/?'))],
      decision: 'partial',
      missingIn: 'identity',
    },
    {
      case: 'bucket/agent/* grants a prefix only: partial',
      identity: [policy('p', get('arn:aws:s3:::aws-ssm-eu-west-1/agent/*'))],
      decision: 'partial',
      missingIn: 'identity',
    },
    {
      case: 'Allow * with a Deny on bucket/agent/*: partial',
      identity: [policy('p', get('*'), deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*'))],
      decision: 'partial',
    },
    {
      case: 'Allow bucket/agent/* with a Deny on bucket/agent/*: nothing is left',
      identity: [
        policy(
          'p',
          get('arn:aws:s3:::aws-ssm-eu-west-1/agent/*'),
          deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*'),
        ),
      ],
      decision: 'explicitDeny',
    },
    {
      case: 'a Deny on the whole bucket: explicitDeny',
      identity: [policy('p', get('*'), deny('s3:*', 'arn:aws:s3:::aws-ssm-eu-west-1*'))],
      decision: 'explicitDeny',
    },
    {
      case: 'a Deny on another bucket does not touch the set',
      identity: [policy('p', get(BUCKET), deny('s3:GetObject', 'arn:aws:s3:::secrets/*'))],
      decision: 'allowed',
    },
    {
      case: 'two Allows that together cover the set (bucket/ and bucket/?*) grant it',
      identity: [
        policy('p', get('arn:aws:s3:::aws-ssm-eu-west-1/')),
        policy('q', get('arn:aws:s3:::aws-ssm-eu-west-1/?*')),
      ],
      decision: 'allowed',
    },
    {
      case: 'an Allow on another bucket: notAllowed',
      identity: [policy('p', get('arn:aws:s3:::x/*'))],
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'NotResource that excludes another bucket grants every object',
      identity: [
        policy('p', { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secrets/*' }),
      ],
      decision: 'allowed',
    },
    {
      case: 'NotResource that excludes part of the bucket: partial',
      identity: [
        policy('p', {
          Effect: 'Allow',
          Action: 's3:GetObject',
          NotResource: 'arn:aws:s3:::aws-ssm-eu-west-1/x*',
        }),
      ],
      decision: 'partial',
      missingIn: 'identity',
    },
    {
      case: 'an undecidable Condition on the grant: conditional',
      identity: [policy('p', get(BUCKET, CONDITION))],
      decision: 'conditional',
    },
    {
      case: 'an undecidable Condition on a Deny that touches the set: conditional',
      identity: [
        policy('p', get(BUCKET), deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*', CONDITION)),
      ],
      decision: 'conditional',
    },
    {
      case: 'a policy variable in a grant narrower than the set (bucket/${aws:username}/*): partial',
      identity: [policy('p', get('arn:aws:s3:::aws-ssm-eu-west-1/${aws:username}/*'))],
      decision: 'partial',
      missingIn: 'identity',
    },
    {
      case: 'a boundary that allows part of the set caps the grant: partial',
      identity: [policy('p', get('*'))],
      boundary: policy('b', get('arn:aws:s3:::aws-ssm-eu-west-1/agent/*')),
      decision: 'partial',
      missingIn: 'boundary',
    },
    {
      case: 'a boundary disjoint from the identity grant leaves nothing',
      identity: [policy('p', get('arn:aws:s3:::aws-ssm-eu-west-1/a*'))],
      boundary: policy('b', get('arn:aws:s3:::aws-ssm-eu-west-1/b*')),
      decision: 'notAllowed',
      missingIn: 'identity',
    },
    {
      case: 'every node of an activation: an Allow on managed-instance/* grants them',
      identity: [
        policy(
          'p',
          allow('ssm:UpdateInstanceInformation', 'arn:aws:ssm:eu-west-1:123456789012:managed-instance/*'),
        ),
      ],
      resources: 'arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-*',
      decision: 'allowed',
    },
  ])('$case: $decision', (c) => {
    const set = new CompiledPolicySet({
      identityPolicies: c.identity,
      ...(c.boundary ? { permissionsBoundary: c.boundary } : {}),
    });
    const action = c.resources ? 'ssm:UpdateInstanceInformation' : 's3:GetObject';
    const result = set.evaluateResourceSet(action, c.resources ?? BUCKET);
    expect(result.decision).toBe(c.decision);
    expect(result.missingIn).toBe(c.missingIn);
    expect(
      evaluatePoliciesOnSet({
        identityPolicies: c.identity,
        ...(c.boundary ? { permissionsBoundary: c.boundary } : {}),
        action,
        resources: c.resources ?? BUCKET,
      }).decision,
    ).toBe(c.decision);
  });

  it('names the deciding statements: the Allow and the Deny that touches the set', () => {
    const result = evaluatePoliciesOnSet({
      identityPolicies: [
        policy('inline:R/P', get('*'), {
          ...deny('s3:GetObject', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*'),
          Sid: 'NoAgent',
        }),
      ],
      action: 's3:GetObject',
      resources: BUCKET,
    });
    expect(result.evidence.map((e) => [e.effect, e.statementIndex, e.sid, e.matchedResource])).toEqual([
      ['Allow', 0, undefined, '*'],
      ['Deny', 1, 'NoAgent', 'arn:aws:s3:::aws-ssm-eu-west-1/agent/*'],
    ]);
  });
});

describe('conditions with a request context', () => {
  const context = {
    'aws:principalaccount': { kind: 'value', value: '123456789012' },
    'aws:requestedregion': { kind: 'value', value: 'eu-west-1' },
  } as const;
  it.each<{ case: string; statements: Record<string, unknown>[]; decision: PolicyDecision['decision'] }>([
    {
      case: 'an Allow whose Condition holds is a plain grant',
      statements: [
        allow('ssm:UpdateInstanceInformation', '*', {
          Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
        }),
      ],
      decision: 'allowed',
    },
    {
      case: 'an Allow whose Condition fails never applies',
      statements: [
        allow('ssm:UpdateInstanceInformation', '*', {
          Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
        }),
      ],
      decision: 'notAllowed',
    },
    {
      case: 'a Deny whose Condition holds denies',
      statements: [
        allow('ssm:UpdateInstanceInformation'),
        deny('ssm:UpdateInstanceInformation', '*', {
          Condition: { StringNotEquals: { 'aws:RequestedRegion': 'us-east-1' } },
        }),
      ],
      decision: 'explicitDeny',
    },
    {
      case: 'a Deny whose Condition fails is no obstacle',
      statements: [
        allow('ssm:UpdateInstanceInformation'),
        deny('ssm:UpdateInstanceInformation', '*', {
          Condition: { StringNotEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
        }),
      ],
      decision: 'allowed',
    },
    {
      case: 'a key the audit does not know stays conditional',
      statements: [allow('ssm:UpdateInstanceInformation', '*', CONDITION)],
      decision: 'conditional',
    },
  ])('$case', ({ statements, decision }) => {
    const result = evaluatePolicies({
      identityPolicies: [policy('inline:R/P', ...statements)],
      context,
      action: 'ssm:UpdateInstanceInformation',
    });
    expect(result.decision).toBe(decision);
    if (decision === 'conditional')
      expect(result.evidence[0]?.undecidedConditionKeys).toEqual(['aws:SourceVpc']);
  });
});
