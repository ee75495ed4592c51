import { parsePolicyDocument, PolicyDocumentError } from '../../shared/policy/document';

const simple = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Core', Effect: 'Allow', Action: 'ssm:UpdateInstanceInformation', Resource: '*' }],
};
const simpleParsed = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Core', Effect: 'Allow', Action: 'ssm:UpdateInstanceInformation', Resource: '*' }],
};

describe('parsePolicyDocument accepts every form the auditor receives', () => {
  it.each([
    { case: 'object (AWS CLI output)', raw: simple as unknown, expected: simpleParsed },
    { case: 'plain JSON string', raw: JSON.stringify(simple), expected: simpleParsed },
    {
      case: 'JSON string with surrounding whitespace',
      raw: `\n  ${JSON.stringify(simple)}  \n`,
      expected: simpleParsed,
    },
    {
      case: 'URL-encoded JSON string (raw IAM API output)',
      raw:
        '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22Core%22%2C%22Effect%22%3A%22Allow' +
        '%22%2C%22Action%22%3A%22ssm%3AUpdateInstanceInformation%22%2C%22Resource%22%3A%22*%22%7D%5D%7D',
      expected: simpleParsed,
    },
    {
      case: 'URL-encoded trust policy with a Principal',
      raw: encodeURIComponent(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      ),
      expected: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
    },
    {
      case: 'plain JSON containing a literal % is not URL-decoded',
      raw: '{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%25"}}',
      expected: {
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/100%25' }],
      },
    },
    {
      case: 'single Statement object is normalized to an array',
      raw: {
        Version: '2012-10-17',
        Statement: { Effect: 'Deny', NotAction: ['ssm:*'], NotResource: 'arn:x' },
      },
      expected: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', NotAction: ['ssm:*'], NotResource: 'arn:x' }],
      },
    },
    {
      case: 'Id, Condition and Principal are kept; unknown keys dropped',
      raw: {
        Id: 'endpoint-policy',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: '*',
            Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
            Extra: true,
          },
        ],
      },
      expected: {
        Id: 'endpoint-policy',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: '*',
            Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
          },
        ],
      },
    },
    { case: 'empty Statement list', raw: { Statement: [] }, expected: { Statement: [] } },
  ])('$case', ({ raw, expected }) => {
    // Prepare: raw is the input as received

    // Act
    const document = parsePolicyDocument(raw);

    // Assess
    expect(document).toStrictEqual(expected);
    expect(Array.isArray(document.Statement)).toBe(true);
  });

  it('does not mutate or alias the input', () => {
    // Prepare
    const raw = { Statement: [{ Effect: 'Allow', Action: ['ssm:GetDocument'], Resource: ['*'] }] };
    const before = JSON.stringify(raw);

    // Act
    const document = parsePolicyDocument(raw);
    (document.Statement[0]?.Action as string[]).push('iam:*');

    // Assess
    expect(JSON.stringify(raw)).toBe(before);
  });
});

describe('parsePolicyDocument rejects malformed documents with a message naming the problem', () => {
  it.each([
    { case: 'invalid JSON string', raw: '{"Statement": [', message: 'not valid JSON' },
    { case: 'URL-encoded invalid JSON', raw: '%7B%22Statement%22%3A', message: 'not valid JSON' },
    { case: 'malformed URL encoding', raw: '%E0%A4%A', message: 'neither JSON nor URL-encoded JSON' },
    { case: 'empty string', raw: '   ', message: 'empty string' },
    {
      case: 'not an object',
      raw: 42 as unknown,
      message: 'Policy document must be a JSON object, got number',
    },
    { case: 'JSON array', raw: '[]', message: 'must be a JSON object, got an array' },
    { case: 'null', raw: null as unknown, message: 'must be a JSON object, got null' },
    { case: 'missing Statement', raw: { Version: '2012-10-17' }, message: 'has no Statement' },
    {
      case: 'Statement is a string',
      raw: { Statement: 'x' },
      message: 'Statement must be an object or a list',
    },
    { case: 'statement not an object', raw: { Statement: [5] }, message: 'Statement[0] must be an object' },
    {
      case: 'bad Effect names the statement index',
      raw: {
        Statement: [
          { Effect: 'Allow', Action: 'a:b' },
          { Effect: 'Allow', Action: 'a:b' },
          { Effect: 'allow', Action: 'a:b' },
        ],
      },
      message: 'Statement[2].Effect must be "Allow" or "Deny", got "allow"',
    },
    {
      case: 'missing Effect',
      raw: { Statement: { Action: 'a:b' } },
      message: 'Statement[0].Effect must be "Allow" or "Deny", got undefined',
    },
    {
      case: 'missing Action and NotAction',
      raw: { Statement: [{ Effect: 'Allow', Resource: '*' }] },
      message: 'Statement[0] must have Action or NotAction',
    },
    {
      case: 'both Action and NotAction',
      raw: { Statement: [{ Effect: 'Allow', Action: 'a:b', NotAction: 'c:d' }] },
      message: 'Statement[0] must not have both Action and NotAction',
    },
    {
      case: 'both Resource and NotResource',
      raw: { Statement: [{ Effect: 'Allow', Action: 'a:b', Resource: '*', NotResource: 'x' }] },
      message: 'Statement[0] must not have both Resource and NotResource',
    },
    {
      case: 'both Principal and NotPrincipal',
      raw: { Statement: [{ Effect: 'Allow', Action: 'a:b', Principal: '*', NotPrincipal: '*' }] },
      message: 'Statement[0] must not have both Principal and NotPrincipal',
    },
    {
      case: 'Action list with a non-string',
      raw: { Statement: [{ Effect: 'Allow', Action: ['a:b', 7] }] },
      message: 'Statement[0].Action[1] must be a string, got number',
    },
    {
      case: 'Action of the wrong type',
      raw: { Statement: [{ Effect: 'Allow', Action: { a: 1 } }] },
      message: 'Statement[0].Action must be a string or a list of strings, got object',
    },
    {
      case: 'empty Resource list',
      raw: { Statement: [{ Effect: 'Allow', Action: 'a:b', Resource: [] }] },
      message: 'Statement[0].Resource must not be an empty list',
    },
    {
      case: 'Condition not an object',
      raw: { Statement: [{ Effect: 'Allow', Action: 'a:b', Condition: ['x'] }] },
      message: 'Statement[0].Condition must be an object, got an array',
    },
    {
      case: 'Sid not a string',
      raw: { Statement: [{ Sid: 1, Effect: 'Allow', Action: 'a:b' }] },
      message: 'Statement[0].Sid must be a string',
    },
    {
      case: 'unknown Version',
      raw: { Version: '2020-01-01', Statement: [] },
      message: 'Version must be "2012-10-17" or "2008-10-17", got "2020-01-01"',
    },
  ])('$case', ({ raw, message }) => {
    // Prepare: raw is the malformed input

    // Act
    const act = () => parsePolicyDocument(raw);

    // Assess
    expect(act).toThrow(PolicyDocumentError);
    expect(act).toThrow(message);
  });

  it('keeps the JSON parse failure as cause and has the error name', () => {
    // Prepare
    const raw = '{not json';

    // Act
    let caught: unknown;
    try {
      parsePolicyDocument(raw);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(PolicyDocumentError);
    expect((caught as PolicyDocumentError).name).toBe('PolicyDocumentError');
    expect((caught as PolicyDocumentError).cause).toBeInstanceOf(SyntaxError);
  });
});
