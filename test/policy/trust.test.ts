import { parsePolicyDocument } from '../../shared/policy/document';
import { trustsService, type TrustResult } from '../../shared/policy/trust';

const trustPolicy = (...statements: Record<string, unknown>[]) =>
  parsePolicyDocument({ Version: '2012-10-17', Statement: statements });

const CONDITION = { Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } };

describe('trustsService', () => {
  it.each<{
    case: string;
    statements: Record<string, unknown>[];
    service?: string;
    action?: string;
    expected: TrustResult;
  }>([
    {
      case: 'ssm service principal is trusted',
      statements: [
        {
          Sid: 'SSM',
          Effect: 'Allow',
          Principal: { Service: 'ssm.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, sid: 'SSM', effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'list of services including ssm is trusted',
      statements: [
        {
          Effect: 'Allow',
          Principal: { Service: ['ec2.amazonaws.com', 'ssm.amazonaws.com'] },
          Action: ['sts:AssumeRole'],
        },
      ],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'ec2 only does not trust ssm',
      statements: [
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
      expected: { decision: 'notTrusted', evidence: [] },
    },
    {
      case: 'ec2 only trusts ec2',
      statements: [
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
      service: 'ec2.amazonaws.com',
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'a Condition on the Allow makes it conditional',
      statements: [
        {
          Effect: 'Allow',
          Principal: { Service: 'ssm.amazonaws.com' },
          Action: 'sts:AssumeRole',
          ...CONDITION,
        },
      ],
      expected: {
        decision: 'conditional',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: true }],
      },
    },
    {
      case: 'a Deny for the service wins over the Allow',
      statements: [
        { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
        { Sid: 'NoSSM', Effect: 'Deny', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:*' },
      ],
      expected: {
        decision: 'notTrusted',
        evidence: [{ statementIndex: 1, sid: 'NoSSM', effect: 'Deny', conditional: false }],
      },
    },
    {
      case: 'a conditional Deny leaves the trust conditional',
      statements: [
        { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole', ...CONDITION },
      ],
      expected: {
        decision: 'conditional',
        evidence: [
          { statementIndex: 0, effect: 'Allow', conditional: false },
          { statementIndex: 1, effect: 'Deny', conditional: true },
        ],
      },
    },
    {
      case: 'a Deny for another service does not matter',
      statements: [
        {
          Effect: 'Allow',
          Principal: { Service: ['ec2.amazonaws.com', 'ssm.amazonaws.com'] },
          Action: 'sts:AssumeRole',
        },
        { Effect: 'Deny', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: '"*" principal trusts everyone, the service included',
      statements: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: '{"AWS":"*"} principal trusts everyone, the service included',
      statements: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'an account principal does not trust the service',
      statements: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' },
      ],
      expected: { decision: 'notTrusted', evidence: [] },
    },
    {
      case: 'sts:* covers sts:AssumeRole',
      statements: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:*' }],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: '* covers sts:AssumeRole',
      statements: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: '*' }],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'another STS action does not cover sts:AssumeRole',
      statements: [
        { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:TagSession' },
      ],
      expected: { decision: 'notTrusted', evidence: [] },
    },
    {
      case: 'a custom action can be asked for',
      statements: [
        {
          Effect: 'Allow',
          Principal: { Service: 'ssm.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ],
      action: 'sts:TagSession',
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'Allow with NotPrincipal not listing the service trusts it',
      statements: [
        { Effect: 'Allow', NotPrincipal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
      expected: {
        decision: 'trusted',
        evidence: [{ statementIndex: 0, effect: 'Allow', conditional: false }],
      },
    },
    {
      case: 'Allow with NotPrincipal listing the service does not trust it',
      statements: [
        { Effect: 'Allow', NotPrincipal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
      expected: { decision: 'notTrusted', evidence: [] },
    },
    {
      case: 'statement without a principal trusts nobody',
      statements: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }],
      expected: { decision: 'notTrusted', evidence: [] },
    },
  ])('$case', ({ statements, service, action, expected }) => {
    // Prepare
    const document = trustPolicy(...statements);

    // Act
    const result = trustsService(document, service ?? 'ssm.amazonaws.com', action);

    // Assess
    expect(result).toStrictEqual(expected);
  });

  it('reads the URL-encoded AssumeRolePolicyDocument returned by the IAM API', () => {
    // Prepare
    const raw =
      '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal' +
      '%22%3A%7B%22Service%22%3A%22ssm.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D';

    // Act
    const result = trustsService(parsePolicyDocument(raw), 'ssm.amazonaws.com');

    // Assess
    expect(result.decision).toBe('trusted');
  });
});

describe('trustsService with what the audit knows of the request', () => {
  // Systems Manager assuming a role for account 123456789012 in eu-west-1.
  const context = {
    'aws:sourceaccount': { kind: 'value', value: '123456789012' },
    'aws:sourcearn': { kind: 'oneOf', pattern: 'arn:aws:ssm:eu-west-1:123456789012:*' },
  } as const;
  const ssm = (extra: Record<string, unknown> = {}, effect = 'Allow') => ({
    Effect: effect,
    Principal: { Service: 'ssm.amazonaws.com' },
    Action: 'sts:AssumeRole',
    ...extra,
  });

  it.each<{ case: string; statements: Record<string, unknown>[]; decision: TrustResult['decision'] }>([
    {
      case: "AWS's confused-deputy trust for this account and region",
      statements: [
        ssm({
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnEquals: { 'aws:SourceArn': 'arn:aws:ssm:eu-west-1:123456789012:*' },
          },
        }),
      ],
      decision: 'trusted',
    },
    {
      case: 'the same trust for another account',
      statements: [ssm({ Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } } })],
      decision: 'notTrusted',
    },
    {
      case: 'the same trust for another region',
      statements: [
        ssm({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:ssm:us-east-1:123456789012:*' } } }),
      ],
      decision: 'notTrusted',
    },
    {
      case: 'a key the audit does not know (aws:SourceOrgID)',
      statements: [ssm({ Condition: { StringEquals: { 'aws:SourceOrgID': 'o-a1b2c3d4e5' } } })],
      decision: 'conditional',
    },
    {
      case: 'a Deny for every other account leaves this one trusted',
      statements: [
        ssm(),
        ssm({ Condition: { StringNotEquals: { 'aws:SourceAccount': '123456789012' } } }, 'Deny'),
      ],
      decision: 'trusted',
    },
  ])('$case: $decision', ({ statements, decision }) => {
    const result = trustsService(trustPolicy(...statements), 'ssm.amazonaws.com', 'sts:AssumeRole', context);
    expect(result.decision).toBe(decision);
    if (decision === 'notTrusted') expect(result.unmetConditions?.length).toBe(1);
  });

  it('without a context any Condition stays conditional (the documented trust included)', () => {
    const statement = ssm({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } });
    expect(trustsService(trustPolicy(statement), 'ssm.amazonaws.com').decision).toBe('conditional');
  });
});
