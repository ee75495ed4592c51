import { allow, deny, policy } from '../support/builders';
import {
  evaluateEndpointPolicy,
  statementAppliesTo,
  type AgentPrincipal,
  type PrincipalMatch,
} from '../../shared/network/endpoint-policy';
import { parsePolicyDocument, type PolicyStatement } from '../../shared/policy/document';

/**
 * The Principal element of VPC endpoint policies, for the SSM Agent's role session
 * (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
 */
const AGENT: AgentPrincipal = {
  partition: 'aws',
  accountId: '123456789012',
  roleName: 'SSMInstanceRole',
  sessionName: 'i-0123456789abcdef0',
};
const ROLE_ARN = 'arn:aws:iam::123456789012:role/SSMInstanceRole';

const statement = (extra: Record<string, unknown>): PolicyStatement =>
  parsePolicyDocument(policy(allow('*', '*', extra))).Statement[0]!;

describe('statementAppliesTo (endpoint policy principals)', () => {
  it.each<{
    case: string;
    element: Record<string, unknown>;
    who?: Partial<AgentPrincipal>;
    expected: PrincipalMatch;
  }>([
    { case: '"*" names everyone', element: { Principal: '*' }, expected: 'yes' },
    { case: '{"AWS": "*"} names everyone', element: { Principal: { AWS: '*' } }, expected: 'yes' },
    { case: "the agent's role ARN", element: { Principal: { AWS: ROLE_ARN } }, expected: 'yes' },
    {
      case: 'the role ARN among others, with a path, in another letter case',
      element: {
        Principal: {
          AWS: ['arn:aws:iam::123456789012:role/Other', 'arn:aws:iam::123456789012:role/ops/ssminstancerole'],
        },
      },
      expected: 'yes',
    },
    {
      case: "the role's session for this instance",
      element: {
        Principal: { AWS: 'arn:aws:sts::123456789012:assumed-role/SSMInstanceRole/i-0123456789abcdef0' },
      },
      expected: 'yes',
    },
    {
      case: "the role's session for another instance",
      element: {
        Principal: { AWS: 'arn:aws:sts::123456789012:assumed-role/SSMInstanceRole/i-0fffffffffffffff0' },
      },
      expected: 'no',
    },
    {
      case: 'another role',
      element: { Principal: { AWS: 'arn:aws:iam::123456789012:role/Other' } },
      expected: 'no',
    },
    {
      case: 'the same role name in another account',
      element: { Principal: { AWS: 'arn:aws:iam::210987654321:role/SSMInstanceRole' } },
      expected: 'no',
    },
    {
      case: 'the role ARN written for another partition',
      element: { Principal: { AWS: ROLE_ARN } },
      who: { partition: 'aws-us-gov' },
      expected: 'no',
    },
    {
      case: 'an account id grants only the account root user',
      element: { Principal: { AWS: '123456789012' } },
      expected: 'no',
    },
    {
      case: 'the account root ARN',
      element: { Principal: { AWS: 'arn:aws:iam::123456789012:root' } },
      expected: 'no',
    },
    { case: 'a service principal', element: { Principal: { Service: 'ec2.amazonaws.com' } }, expected: 'no' },
    {
      case: "a named role when the agent's role is unknown",
      element: { Principal: { AWS: ROLE_ARN } },
      who: { roleName: undefined },
      expected: 'unknown',
    },
    {
      case: '"*" when the role is unknown',
      element: { Principal: '*' },
      who: { roleName: undefined },
      expected: 'yes',
    },
    {
      case: 'NotPrincipal listing another role applies to the agent',
      element: { NotPrincipal: { AWS: 'arn:aws:iam::123456789012:role/Other' } },
      expected: 'yes',
    },
    { case: 'NotPrincipal listing the agent', element: { NotPrincipal: { AWS: ROLE_ARN } }, expected: 'no' },
    { case: 'no Principal element is read as the default "*"', element: {}, expected: 'yes' },
  ])('$case → $expected', ({ element, who, expected }) => {
    expect(statementAppliesTo(statement(element), { ...AGENT, ...who })).toBe(expected);
  });
});

describe('evaluateEndpointPolicy', () => {
  const INSTANCE_ARN = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0';
  it.each<{
    case: string;
    statements: Record<string, unknown>[];
    who?: Partial<AgentPrincipal>;
    expected: { decision: string; statementIndex?: number; principalUnknown?: boolean };
  }>([
    {
      case: 'statements for other principals are skipped; the Deny keeps its index in the document',
      statements: [
        allow('*', '*', { Principal: { AWS: 'arn:aws:iam::123456789012:role/Other' } }),
        allow('*', '*', { Principal: '*' }),
        deny('ssm:UpdateInstanceInformation', '*', { Principal: { AWS: ROLE_ARN } }),
      ],
      expected: { decision: 'explicitDeny', statementIndex: 2 },
    },
    {
      case: "a Deny naming another role does not bind the agent's role",
      statements: [
        allow('*', '*', { Principal: '*' }),
        deny('*', '*', { Principal: { AWS: 'arn:aws:iam::123456789012:role/Other' } }),
      ],
      expected: { decision: 'allowed', statementIndex: 0 },
    },
    {
      case: 'only another role is allowed → notAllowed',
      statements: [allow('*', '*', { Principal: { AWS: 'arn:aws:iam::123456789012:role/Other' } })],
      expected: { decision: 'notAllowed' },
    },
    {
      case: 'role unknown, the only Allow names a role → conditional',
      statements: [allow('*', '*', { Principal: { AWS: ROLE_ARN } })],
      who: { roleName: undefined },
      expected: { decision: 'conditional', statementIndex: 0, principalUnknown: true },
    },
    {
      case: 'role unknown, a Deny names a role but "*" is allowed → conditional',
      statements: [allow('*', '*', { Principal: '*' }), deny('*', '*', { Principal: { AWS: ROLE_ARN } })],
      who: { roleName: undefined },
      expected: { decision: 'conditional', principalUnknown: true },
    },
  ])('$case', ({ statements, who, expected }) => {
    // Prepare
    const document = parsePolicyDocument(policy(...statements));
    // Act
    const result = evaluateEndpointPolicy(
      document,
      'vpce-0ssm0000000000000 policy',
      { ...AGENT, ...who },
      'ssm:UpdateInstanceInformation',
      INSTANCE_ARN,
    );
    // Assess
    expect(result.decision).toBe(expected.decision);
    if (expected.statementIndex !== undefined)
      expect(result.statements[0]?.statementIndex).toBe(expected.statementIndex);
    expect(result.principalUnknown).toBe(expected.principalUnknown ?? false);
  });
});
