import { evaluateCondition, type RequestContext } from '../../shared/policy/conditions';

/**
 * Condition blocks decided against what the audit knows
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 */

const ACCOUNT = '123456789012';
/** What the audit knows when Systems Manager assumes a role in eu-west-1 for this account. */
const SSM: RequestContext = {
  'aws:sourceaccount': { kind: 'value', value: ACCOUNT },
  'aws:sourcearn': { kind: 'oneOf', pattern: `arn:aws:ssm:eu-west-1:${ACCOUNT}:*` },
};
/** What the audit knows of the agent's own requests: the principal's account and region, no source keys. */
const AGENT: RequestContext = {
  'aws:principalaccount': { kind: 'value', value: ACCOUNT },
  'aws:requestedregion': { kind: 'value', value: 'eu-west-1' },
  'aws:sourcearn': { kind: 'absent' },
};

describe('evaluateCondition', () => {
  it.each<{ case: string; condition: Record<string, unknown>; context?: RequestContext; result: string }>([
    // The documented confused-deputy trust of the hybrid service role.
    {
      case: 'StringEquals aws:SourceAccount = this account and ArnEquals aws:SourceArn = this region: met',
      condition: {
        StringEquals: { 'aws:SourceAccount': ACCOUNT },
        ArnEquals: { 'aws:SourceArn': `arn:aws:ssm:eu-west-1:${ACCOUNT}:*` },
      },
      result: 'met',
    },
    {
      case: 'another account: not met',
      condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } },
      result: 'notMet',
    },
    {
      case: 'another region in aws:SourceArn: not met',
      condition: { ArnLike: { 'aws:SourceArn': `arn:aws:ssm:us-east-1:${ACCOUNT}:*` } },
      result: 'notMet',
    },
    {
      case: 'a SourceArn narrower than what the audit knows (managed-instance/*): unknown',
      condition: { ArnLike: { 'aws:SourceArn': `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/*` } },
      result: 'unknown',
    },
    {
      case: 'several values are ORed (another account or this one): met',
      condition: { StringEquals: { 'aws:SourceAccount': ['999999999999', ACCOUNT] } },
      result: 'met',
    },
    {
      case: 'several keys are ANDed (this account but another region): not met',
      condition: {
        StringEquals: { 'aws:SourceAccount': ACCOUNT },
        ArnLike: { 'aws:SourceArn': `arn:aws:ssm:us-east-1:${ACCOUNT}:*` },
      },
      result: 'notMet',
    },
    {
      case: 'condition key names are case-insensitive',
      condition: { StringEquals: { 'AWS:SOURCEACCOUNT': ACCOUNT } },
      result: 'met',
    },
    {
      case: 'an account id written as a number is read as text',
      condition: { StringEquals: { 'aws:SourceAccount': 123456789012 } },
      result: 'met',
    },
    {
      case: 'StringNotEquals another account: met',
      condition: { StringNotEquals: { 'aws:SourceAccount': '999999999999' } },
      result: 'met',
    },
    {
      case: 'StringNotEquals [another, this] (NOR of the values): not met',
      condition: { StringNotEquals: { 'aws:SourceAccount': ['999999999999', ACCOUNT] } },
      result: 'notMet',
    },
    {
      case: 'ArnNotLike another region: met',
      condition: { ArnNotLike: { 'aws:SourceArn': `arn:aws:ssm:us-east-1:*:*` } },
      result: 'met',
    },
    {
      case: 'StringLike with wildcards on the account: met',
      condition: { StringLike: { 'aws:SourceAccount': '1234567890??' } },
      result: 'met',
    },
    {
      case: 'StringEquals takes * literally: not met',
      condition: { StringEquals: { 'aws:SourceAccount': '*' } },
      result: 'notMet',
    },
    {
      case: 'StringEqualsIgnoreCase on the region',
      condition: { StringEqualsIgnoreCase: { 'aws:RequestedRegion': 'EU-WEST-1' } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'StringEquals is case-sensitive',
      condition: { StringEquals: { 'aws:RequestedRegion': 'EU-WEST-1' } },
      context: AGENT,
      result: 'notMet',
    },
    {
      case: 'aws:SourceOrgID without an Organization id in the snapshot: unknown',
      condition: { StringEquals: { 'aws:SourceOrgID': 'o-a1b2c3d4e5' } },
      result: 'unknown',
    },
    {
      case: 'an unknown key next to a failing one: not met (AND)',
      condition: {
        StringEquals: { 'aws:SourceAccount': '999999999999', 'aws:SourceOrgID': 'o-a1b2c3d4e5' },
      },
      result: 'notMet',
    },
    {
      case: 'an operator the audit does not implement (Bool): unknown',
      condition: { Bool: { 'aws:SecureTransport': 'true' } },
      result: 'unknown',
    },
    {
      case: 'a policy variable in the value: unknown',
      condition: { StringEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } },
      result: 'unknown',
    },
    // Absent keys: "the values do not match and the condition is false", except negated operators, IfExists.
    {
      case: 'absent aws:SourceArn with ArnLike: not met',
      condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:ssm:*:*:*' } },
      context: AGENT,
      result: 'notMet',
    },
    {
      case: 'absent aws:SourceArn with ArnNotLike: met',
      condition: { ArnNotLike: { 'aws:SourceArn': 'arn:aws:ssm:*:*:*' } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'absent aws:SourceArn with ArnLikeIfExists: met',
      condition: { ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:ssm:*:*:*' } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'present key with StringEqualsIfExists is tested',
      condition: { StringEqualsIfExists: { 'aws:PrincipalAccount': '999999999999' } },
      context: AGENT,
      result: 'notMet',
    },
    {
      case: 'absent key with ForAllValues: met',
      condition: { 'ForAllValues:StringLike': { 'aws:SourceArn': 'x' } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'absent key with ForAnyValue: not met',
      condition: { 'ForAnyValue:StringLike': { 'aws:SourceArn': 'x' } },
      context: AGENT,
      result: 'notMet',
    },
    {
      case: 'ForAnyValue on a present single-valued key tests its value',
      condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalAccount': [ACCOUNT, '1'] } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'Null true on an absent key: met',
      condition: { Null: { 'aws:SourceArn': 'true' } },
      context: AGENT,
      result: 'met',
    },
    {
      case: 'Null false on an absent key: not met',
      condition: { Null: { 'aws:SourceArn': 'false' } },
      context: AGENT,
      result: 'notMet',
    },
    {
      case: 'no context: any key is unknown',
      condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      context: undefined,
      result: 'unknown',
    },
    { case: 'an empty block constrains nothing', condition: {}, result: 'met' },
  ])('$case', (row) => {
    // Rows without a context field ask about Systems Manager assuming a role (SSM); `context: undefined`
    // means "no context at all".
    const outcome = evaluateCondition(row.condition, 'context' in row ? row.context : SSM);
    expect(outcome.result).toBe(row.result);
  });
});
