import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import eventNames from '../../shared/events/event-names.json';
import { READ_ACTIONS, readOnlyPolicyForCloudFormation } from '../../shared/collect/permissions';
import { parseLambdaEnv } from '../../functions/lib/runtime';
import { FINDINGS_TABLE_DEFINITION } from '../../shared/store/table';
import { packageService, ZIP_TARGET_BYTES, zipSizes } from '../../scripts/dev/package';
import { DEFAULT_MEMBER_ROLE_NAME, MEMBER_STACKSET_FILE } from '../../scripts/deploy/member-stackset';
import {
  effectiveTemplate,
  evaluateConditions,
  referencesIn,
  resolveIfs,
  type Template,
} from './cloudformation';

/**
 * `osls package` (offline, no credentials) and the CloudFormation template it generates: least-privilege
 * roles, the table, the encrypted topic, every EventBridge rule with its dead-letter queue, the alarms.
 * Packaged twice: with the default parameters (a single-account deploy) and in Organization mode
 * (orgMode=true); the tests read what CloudFormation would deploy from each (conditions evaluated).
 */

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };
let dir: string;
let orgDir: string;
/** The packaged template as written (Organization-mode resources under their conditions). */
let rawTemplate: Template;
let rawOrgTemplate: Template;
/** What a single-account deploy creates. */
let template: Template;
let resources: Record<string, Resource>;
/** What an Organization-mode deploy creates. */
let orgResources: Record<string, Resource>;
let orgOutputs: Record<string, { Value: unknown }>;
let packaged: ReturnType<typeof packageService>;

const ORGANIZATION_ID = 'o-exampleorg1';
const ORG_PARAMS = { orgMode: 'true', organizationId: ORGANIZATION_ID, orgConcurrency: '25' };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ssm-audit-package-'));
  orgDir = mkdtempSync(path.join(tmpdir(), 'ssm-audit-package-org-'));
  const env = { ...process.env };
  // Prove it needs no AWS account: no credentials at all.
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
  let orgPackaged: ReturnType<typeof packageService>;
  try {
    packaged = packageService(dir, 'prod');
    orgPackaged = packageService(orgDir, 'prod', ORG_PARAMS);
  } finally {
    process.env = env;
  }
  for (const result of [packaged, orgPackaged])
    if (result.status !== 0) throw new Error(`osls package failed:\n${result.stdout}\n${result.stderr}`);
  const read = (d: string) =>
    JSON.parse(readFileSync(path.join(d, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  rawTemplate = read(dir);
  rawOrgTemplate = read(orgDir);
  template = effectiveTemplate(rawTemplate);
  resources = template.Resources as Record<string, Resource>;
  const org = effectiveTemplate(rawOrgTemplate);
  orgResources = org.Resources as Record<string, Resource>;
  orgOutputs = org.Outputs as Record<string, { Value: unknown }>;
}, 300_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(orgDir, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
function statementsOf(role: Resource): Statement[] {
  const policies = (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? [];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** What a function may do beyond reading EC2/SSM/IAM: its own log group, table, topic, key and queue. */
const OWN_RESOURCE_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'sns:Publish',
  'kms:GenerateDataKey',
  'kms:Decrypt',
  'sqs:SendMessage',
]);
const READ_ONLY = new Set<string>(Object.values(READ_ACTIONS).flat());
/**
 * The registration re-checks (DESIGN §3 R7): the event audit creates its one-time schedules and passes
 * their role to EventBridge Scheduler; that role may invoke the event audit. No other role gets these.
 */
const RECHECK_ACTIONS: Record<string, ReadonlySet<string>> = {
  EventAuditRole: new Set(['scheduler:CreateSchedule', 'iam:PassRole']),
  RecheckSchedulerRole: new Set(['lambda:InvokeFunction']),
};
const GROUP = 'ssm-readiness-auditor-prod-rechecks';
const EVENT_AUDIT_ARN = {
  'Fn::Sub':
    'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:ssm-readiness-auditor-prod-eventAudit',
};
/** The roles the functions run as (each reads the account); the scheduler's role is not one of them. */
const FUNCTION_ROLES = ['ScheduledAuditRole', 'EventAuditRole', 'AdhocAuditRole'];

describe('functions and their roles', () => {
  const functions = () => ofType('AWS::Lambda::Function');

  it('has the three functions, on nodejs22.x arm64, each with a role of its own', () => {
    expect(
      functions()
        .map(([, f]) => f.Properties.FunctionName)
        .sort(),
    ).toEqual([
      'ssm-readiness-auditor-prod-adhocAudit',
      'ssm-readiness-auditor-prod-eventAudit',
      'ssm-readiness-auditor-prod-scheduledAudit',
    ]);
    const roles = new Set<string>();
    for (const [, fn] of functions()) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      roles.add(role);
      expect(resources[role]?.Type).toBe('AWS::IAM::Role');
    }
    expect(roles.size).toBe(3);
    // No shared default execution role is generated.
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('grants only the read-only EC2/SSM/IAM actions plus the function’s own table, topic, key, queue and logs (and the re-checks)', () => {
    expect(
      ofType('AWS::IAM::Role')
        .map(([name]) => name)
        .sort(),
    ).toEqual([...FUNCTION_ROLES, 'RecheckSchedulerRole'].sort());
    for (const [name, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of asList(statement.Action)) {
          const allowed =
            READ_ONLY.has(action) ||
            OWN_RESOURCE_ACTIONS.has(action) ||
            Boolean(RECHECK_ACTIONS[name]?.has(action));
          expect([name, action, allowed]).toEqual([name, action, true]);
        }
      }
    }
  });

  it('has no wildcard action anywhere, and no wildcard resource for any write', () => {
    for (const [name, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        const actions = asList(statement.Action);
        expect(actions.some((a) => a.includes('*'))).toBe(false);
        const writes = actions.filter((a) => OWN_RESOURCE_ACTIONS.has(a) || RECHECK_ACTIONS[name]?.has(a));
        if (writes.length === 0) continue;
        for (const resource of asList(statement.Resource)) {
          expect([name, writes, JSON.stringify(resource).includes('"*"') || resource === '*']).toEqual([
            name,
            writes,
            false,
          ]);
        }
      }
    }
  });

  it('configures every function with an environment its runtime accepts (parameters included)', () => {
    // What CloudFormation resolves the references to, in a real account.
    const resolved: Record<string, string> = {
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:t',
      RECHECK_ROLE_ARN:
        'arn:aws:iam::123456789012:role/ssm-readiness-auditor-prod-RecheckSchedulerRole-1AB2C3',
      RECHECK_TARGET_ARN:
        'arn:aws:lambda:eu-west-1:123456789012:function:ssm-readiness-auditor-prod-eventAudit',
    };
    for (const [name, fn] of functions()) {
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const env = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : (resolved[k] ?? 'table-name')]),
      );
      const parsed = parseLambdaEnv({ ...env, AWS_REGION: 'eu-west-1' });
      expect(parsed).toMatchObject({
        regions: ['eu-west-1'],
        historyTtlDays: 90,
        maxAlertsPerRun: 50,
        registrationGraceMinutes: 30,
      });
      // Only the event audit schedules re-checks.
      expect([name, parsed.recheck?.groupName]).toEqual([
        name,
        name === 'EventAuditLambdaFunction' ? GROUP : undefined,
      ]);
    }
  });

  it('sends failed asynchronous invocations to an on-failure destination', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(3);
    for (const [, config] of configs) {
      expect(config.Properties.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] } },
      });
    }
  });

  it('keeps logs for a set time', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(3);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('bundles each function (SDK v3 included) within 1.5 MB, and the bundle loads and answers an event', () => {
    const zips = zipSizes(dir);
    // osls bundles every function; the Organization-mode ones are deployed with orgMode=true only.
    expect(zips.map((z) => z.file).sort()).toEqual([
      'adhocAudit.zip',
      'eventAudit.zip',
      'orgPlan.zip',
      'orgWorker.zip',
      'scheduledAudit.zip',
    ]);
    for (const zip of zips) expect([zip.file, zip.bytes <= ZIP_TARGET_BYTES]).toEqual([zip.file, true]);
    const out = path.join(dir, 'event');
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', path.join(dir, 'eventAudit.zip'), out], {
      encoding: 'utf8',
    });
    expect(unzip.status).toBe(0);
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.join(out, 'functions', 'event-audit.js'))}).handler(
           { version: '0', id: 'e1', 'detail-type': 'Object Created', source: 'aws.s3', account: '123456789012',
             time: '2026-11-23T10:00:00Z', region: 'eu-west-1', resources: [], detail: {} },
           { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f', functionName: 'f', awsRequestId: 'r' }
         ).then((r) => console.log(JSON.stringify(r)))`,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          FINDINGS_TABLE: 'findings',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({
      action: 'ignore',
      reason: 'detail-type Object Created is not audited',
    });
  });
});

describe('the findings table, the topic and the queues', () => {
  it('creates the table from the one definition: PITR, encryption, TTL and the four indexes', () => {
    const table = resources.FindingsTable!;
    expect(table.Properties).toEqual(FINDINGS_TABLE_DEFINITION);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(
      (table.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map((i) => i.IndexName),
    ).toEqual(['byProblem', 'byRule', 'byScope', 'pendingAlerts']);
  });

  it('encrypts the alert topic with its own KMS key, and subscribes the email only when one is given', () => {
    expect(resources.AlertTopic!.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertKey' });
    expect(resources.AlertKey!.Properties.EnableKeyRotation).toBe(true);
    expect(rawTemplate.Resources.AlertEmailSubscription).toMatchObject({
      Condition: 'HasAlertEmail',
      Properties: { Protocol: 'email' },
    });
  });

  it('encrypts both queues', () => {
    for (const [, queue] of ofType('AWS::SQS::Queue'))
      expect(queue.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertKey' });
  });
});

describe('EventBridge rules', () => {
  const rules = () => ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
  const patterns = () =>
    rules()
      .map((r) => r.EventPattern as Record<string, unknown> | undefined)
      .filter(Boolean) as Record<string, unknown>[];
  const cloudTrail = (source: string, names: readonly string[]) => ({
    source: [source],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: [`${source.slice(4)}.amazonaws.com`],
      eventName: [...names],
      errorCode: [{ exists: false }],
    },
  });

  it('has the schedule and a pattern for every event DESIGN §6 lists, CloudTrail ones only without errorCode', () => {
    expect(
      rules()
        .filter((r) => r.ScheduleExpression)
        .map((r) => r.ScheduleExpression),
    ).toEqual(['rate(12 hours)']);
    expect(patterns()).toEqual(
      expect.arrayContaining([
        {
          source: ['aws.ec2'],
          'detail-type': ['EC2 Instance State-change Notification'],
          detail: { state: ['running', 'stopped', 'terminated'] },
        },
        cloudTrail('aws.ec2', eventNames.ec2Instance),
        cloudTrail('aws.ec2', eventNames.ec2Network),
        cloudTrail('aws.ssm', eventNames.ssmRegion),
        cloudTrail('aws.iam', eventNames.iamRole),
        cloudTrail('aws.iam', eventNames.iamAccount),
      ]),
    );
    expect(rules()).toHaveLength(7);
    for (const name of [
      'RunInstances',
      'AssociateIamInstanceProfile',
      'ModifyInstanceMetadataOptions',
      'CreateVpcEndpoint',
      'AuthorizeSecurityGroupIngress',
      'CreateRoute',
      'ReplaceNetworkAclEntry',
    ]) {
      expect([...eventNames.ec2Instance, ...eventNames.ec2Network]).toContain(name);
    }
    for (const name of [
      'UpdateServiceSetting',
      'ResetServiceSetting',
      'CreateActivation',
      'DeleteActivation',
      'DeregisterManagedInstance',
    ]) {
      expect(eventNames.ssmRegion).toContain(name);
    }
  });

  it('gives every rule a retry policy and a dead-letter queue', () => {
    for (const rule of rules()) {
      const [target] = rule.Targets as { RetryPolicy?: unknown; DeadLetterConfig?: unknown }[];
      expect(target?.RetryPolicy).toEqual(
        expect.objectContaining({ MaximumRetryAttempts: expect.any(Number) }),
      );
      expect(target?.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    }
  });
});

describe('alarms', () => {
  it('alarm on every function’s errors and on both queues’ depth, notifying the alert topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const lambdaErrors = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors');
    expect(
      lambdaErrors.map((a) => (a.Dimensions as { Value: { Ref: string } }[])[0]!.Value.Ref).sort(),
    ).toEqual(['AdhocAuditLambdaFunction', 'EventAuditLambdaFunction', 'ScheduledAuditLambdaFunction']);
    const queues = alarms.filter((a) => a.Namespace === 'AWS/SQS');
    expect(
      queues
        .map((a) => (a.Dimensions as { Value: { 'Fn::GetAtt': string[] } }[])[0]!.Value['Fn::GetAtt'][0])
        .sort(),
    ).toEqual(['EventsDeadLetterQueue', 'FailedInvocationsQueue']);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Resource policies and partitions (DESIGN §9, issue 9 item 8)

type PolicyStatement = {
  Sid?: string;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Every resource policy the stack attaches to its key, topic and queues. */
function resourcePolicies(): { name: string; statements: PolicyStatement[] }[] {
  const documentOf: Record<string, string> = {
    'AWS::KMS::Key': 'KeyPolicy',
    'AWS::SNS::TopicPolicy': 'PolicyDocument',
    'AWS::SQS::QueuePolicy': 'PolicyDocument',
  };
  return Object.entries(resources)
    .filter(([, r]) => documentOf[r.Type])
    .map(([name, r]) => ({
      name,
      statements: asList(
        (r.Properties[documentOf[r.Type]!] as { Statement: PolicyStatement | PolicyStatement[] }).Statement,
      ),
    }));
}

/** The service principals a statement names ('*' and {AWS: '*'} count: anyone includes every service). */
function servicesOf(principal: unknown): string[] {
  if (principal === '*') return ['*'];
  if (!principal || typeof principal !== 'object') return [];
  const { Service, AWS } = principal as { Service?: string | string[]; AWS?: unknown };
  return [...asList(Service), ...(asList(AWS as string | string[]).includes('*') ? ['*'] : [])];
}

/** A condition key's value under any operator (StringEquals, ArnLike, ...), keys compared case-insensitively. */
function conditionValues(statement: PolicyStatement, key: string): unknown[] {
  return Object.values(statement.Condition ?? {}).flatMap((block) =>
    Object.entries(block)
      .filter(([k]) => k.toLowerCase() === key.toLowerCase())
      .map(([, v]) => v),
  );
}

/** Every string in a JSON value, with its path. */
function stringsOf(value: unknown, at = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${at}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringsOf(v, at ? `${at}.${k}` : k));
  return [];
}

describe('resource policies and partitions', () => {
  it('conditions every service principal of the KMS key, SNS topic and SQS queue policies on this account and stack', () => {
    const policies = resourcePolicies();
    expect(policies.map((p) => p.name).sort()).toEqual([
      'AlertKey',
      'AlertTopicPolicy',
      'EventsDeadLetterQueuePolicy',
    ]);
    const checked: string[] = [];
    for (const { name, statements } of policies) {
      for (const statement of statements) {
        const services = servicesOf(statement.Principal);
        if (services.length === 0) continue;
        const where = `${name} ${statement.Sid ?? '(no Sid)'} ${services.join(',')}`;
        checked.push(where);
        expect([where, services.includes('*')]).toEqual([where, false]);
        const accounts = conditionValues(statement, 'aws:SourceAccount');
        const arns = conditionValues(statement, 'aws:SourceArn');
        // At least one of the two, and each one present names this account.
        expect([where, accounts.length + arns.length > 0]).toEqual([where, true]);
        for (const account of accounts) expect([where, account]).toEqual([where, { Ref: 'AWS::AccountId' }]);
        for (const arn of arns) {
          const text = JSON.stringify(arn);
          expect([where, text.includes('${AWS::AccountId}') && text.includes('${AWS::Partition}')]).toEqual([
            where,
            true,
          ]);
        }
      }
    }
    // The key serves CloudWatch alarms and EventBridge; the topic CloudWatch; the queue EventBridge.
    expect(checked).toHaveLength(4);
  });

  it('scopes the alarms’ and rules’ aws:SourceArn to this service and stage, and those names match', () => {
    const alarmNames = ofType('AWS::CloudWatch::Alarm').map(([, a]) => String(a.Properties.AlarmName));
    const ruleNames = ofType('AWS::Events::Rule').map(([, r]) => String(r.Properties.Name));
    expect(alarmNames).toHaveLength(5);
    expect(ruleNames).toHaveLength(7);
    const prefix = 'ssm-readiness-auditor-prod-';
    for (const name of [...alarmNames, ...ruleNames]) expect(name.startsWith(prefix)).toBe(true);
    const arns = resourcePolicies()
      .flatMap((p) => p.statements)
      .flatMap((s) => conditionValues(s, 'aws:SourceArn'))
      .map((v) => (v as { 'Fn::Sub': string })['Fn::Sub']);
    expect(new Set(arns)).toEqual(
      new Set([
        `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${prefix}*`,
        `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${prefix}*`,
      ]),
    );
  });

  it('names no partition in any ARN: every ARN takes ${AWS::Partition}', () => {
    for (const t of [rawTemplate, rawOrgTemplate]) {
      const literal = stringsOf(t).filter(({ text }) => /arn:aws(-cn|-us-gov)?:/.test(text));
      expect(literal).toEqual([]);
    }
    // The functions read the account with the generated read-only policy, in the stack's partition.
    for (const name of FUNCTION_ROLES) {
      const role = resources[name]!;
      const readAccount = (
        role.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[]
      ).find((p) => p.PolicyName === 'read-account');
      expect(readAccount?.PolicyDocument).toEqual(readOnlyPolicyForCloudFormation());
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Registration re-checks (DESIGN §3 R7 "Launch grace")

type Trust = {
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const trustOf = (role: Resource) =>
  asList((role.Properties.AssumeRolePolicyDocument as { Statement: Trust | Trust[] }).Statement);

describe('registration re-checks', () => {
  it('has the deploy parameter registrationGraceMinutes (default 30), in every function’s environment', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.REGISTRATION_GRACE_MINUTES).toBe('30');
    }
  });

  it('creates the schedule group, and the event audit targets itself through the scheduler role', () => {
    expect(resources.RecheckScheduleGroup).toEqual({
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: GROUP },
    });
    const vars = (
      resources.EventAuditLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(vars).toMatchObject({
      RECHECK_SCHEDULE_GROUP: GROUP,
      RECHECK_ROLE_ARN: { 'Fn::GetAtt': ['RecheckSchedulerRole', 'Arn'] },
      RECHECK_TARGET_ARN: EVENT_AUDIT_ARN,
    });
    expect(resources.EventAuditLambdaFunction!.Properties.FunctionName).toBe(
      'ssm-readiness-auditor-prod-eventAudit',
    );
    for (const name of ['ScheduledAuditLambdaFunction', 'AdhocAuditLambdaFunction']) {
      const other = (resources[name]!.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(Object.keys(other).filter((k) => k.startsWith('RECHECK_'))).toEqual([]);
    }
  });

  it('lets EventBridge Scheduler assume the scheduler role only for this account’s schedule group (confused deputy)', () => {
    const trust = trustOf(resources.RecheckSchedulerRole!);
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': {
              'Fn::Sub': `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule-group/${GROUP}`,
            },
          },
        },
      },
    ]);
  });

  it('gives the scheduler role lambda:InvokeFunction on the event audit function and nothing else', () => {
    expect(statementsOf(resources.RecheckSchedulerRole!)).toEqual([
      {
        Sid: 'InvokeEventAudit',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: EVENT_AUDIT_ARN,
      },
    ]);
    expect(resources.RecheckSchedulerRole!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('lets the event audit create schedules only in its group under recheck-*, and pass only the scheduler role, only to Scheduler', () => {
    const statements = statementsOf(resources.EventAuditRole!).filter((s) =>
      asList(s.Action).some((a) => RECHECK_ACTIONS.EventAuditRole!.has(a)),
    );
    expect(statements).toEqual([
      {
        Sid: 'RecheckSchedules',
        Effect: 'Allow',
        Action: 'scheduler:CreateSchedule',
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${GROUP}/recheck-*`,
        },
      },
      {
        Sid: 'PassRecheckRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': ['RecheckSchedulerRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it('conditions every service principal of every role trust but Lambda’s own on this account', () => {
    const checked: string[] = [];
    for (const [name, role] of ofType('AWS::IAM::Role')) {
      for (const statement of trustOf(role)) {
        const services = servicesOf(statement.Principal);
        expect([name, services.includes('*')]).toEqual([name, false]);
        if (services.every((s) => s === 'lambda.amazonaws.com')) continue;
        checked.push(name);
        expect([name, conditionValues(statement as PolicyStatement, 'aws:SourceAccount')]).toEqual([
          name,
          [{ Ref: 'AWS::AccountId' }],
        ]);
      }
    }
    expect(checked).toEqual(['RecheckSchedulerRole']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Organization mode (DESIGN §7): fan-out on an SQS FIFO queue, the member role, the central bus

const orgOfType = (type: string) => Object.entries(orgResources).filter(([, r]) => r.Type === type);
const MEMBER_ROLE_ARN = {
  'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${DEFAULT_MEMBER_ROLE_NAME}`,
};
const ASSUME_MEMBER_ROLE = {
  Sid: 'AssumeMemberRole',
  Effect: 'Allow',
  Action: 'sts:AssumeRole',
  Resource: MEMBER_ROLE_ARN,
  Condition: { StringEquals: { 'aws:ResourceOrgID': ORGANIZATION_ID } },
};
const ORGANIZATIONS_READS = [
  'organizations:ListAccounts',
  'organizations:ListAccountsForParent',
  'organizations:ListParents',
  'organizations:ListPoliciesForTarget',
  'organizations:DescribePolicy',
  'organizations:DescribeOrganization',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
];
/** Beyond the single-account roles' actions, what each role may do in Organization mode. */
const ORG_ACTIONS: Record<string, ReadonlySet<string>> = {
  OrgPlanRole: new Set([
    ...ORGANIZATIONS_READS,
    'account:ListRegions',
    'ec2:DescribeRegions',
    'sts:AssumeRole',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
  ]),
  OrgWorkerRole: new Set([
    'sts:AssumeRole',
    'dynamodb:PutItem',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
  ]),
  EventAuditRole: new Set(['sts:AssumeRole']),
};
const ORG_RESOURCE_PREFIX = /^Org/;

describe('Organization mode', () => {
  it('leaves a single-account deploy (orgMode false, the default) exactly as it was', () => {
    expect(Object.keys(resources).filter((name) => ORG_RESOURCE_PREFIX.test(name))).toEqual([]);
    expect(Object.keys(template.Outputs ?? {}).filter((name) => ORG_RESOURCE_PREFIX.test(name))).toEqual([]);
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect([name, Object.keys(vars).filter((k) => k.startsWith('ORG_'))]).toEqual([name, []]);
    }
    for (const name of FUNCTION_ROLES)
      expect([name, statementsOf(resources[name]!).flatMap((s) => asList(s.Action))]).toEqual([
        name,
        expect.not.arrayContaining(['sts:AssumeRole']),
      ]);
    expect(ofType('AWS::Events::EventBusPolicy')).toEqual([]);
    // Every Organization-mode resource exists under a condition that needs orgMode 'true'.
    const conditions = rawTemplate.Conditions as Record<string, unknown>;
    expect(conditions.IsOrgMode).toEqual({ 'Fn::Equals': ['false', 'true'] });
    expect(conditions.IsOrgModeWithOrganizationId).toEqual({
      'Fn::And': [{ Condition: 'IsOrgMode' }, { Condition: 'HasOrganizationId' }],
    });
    const orgOnly = Object.keys(orgResources).filter((name) => !(name in resources));
    expect(orgOnly.sort()).toEqual(
      [
        'OrgEventBusPolicy',
        'OrgJobDeadLetterQueue',
        'OrgJobDeadLetterQueueAlarm',
        'OrgJobQueue',
        'OrgPlanErrorsAlarm',
        'OrgPlanLambdaEvConf',
        'OrgPlanLambdaFunction',
        'OrgPlanLogGroup',
        'OrgPlanRole',
        'OrgPlanSchedulePermission',
        'OrgPlanScheduleRule',
        'OrgWorkerErrorsAlarm',
        'OrgWorkerEventSourceMappingSQSOrgJobQueue',
        'OrgWorkerLambdaFunction',
        'OrgWorkerLogGroup',
        'OrgWorkerRole',
      ].sort(),
    );
    for (const name of orgOnly)
      expect([name, rawTemplate.Resources[name]!.Condition]).toEqual([
        name,
        expect.stringMatching(/^IsOrgMode/),
      ]);
  });

  it('never refers from a resource to one that may not exist with it (same condition)', () => {
    for (const t of [rawTemplate, rawOrgTemplate]) {
      for (const [name, resource] of Object.entries(t.Resources)) {
        const dependsOn = asList((resource as { DependsOn?: string | string[] }).DependsOn);
        const guarded = (condition: string, ref: string) => t.Resources[ref]?.Condition === condition;
        for (const ref of [...referencesIn(resource, guarded), ...dependsOn]) {
          const target = t.Resources[ref];
          if (!target?.Condition) continue;
          expect([name, ref, resource.Condition]).toEqual([name, ref, target.Condition]);
        }
      }
      for (const [name, output] of Object.entries(t.Outputs ?? {}))
        for (const ref of referencesIn(output.Value))
          if (t.Resources[ref]?.Condition)
            expect([name, ref, output.Condition]).toEqual([name, ref, t.Resources[ref]!.Condition]);
    }
  });

  it('has a FIFO job queue (explicit deduplication ids) with a FIFO dead-letter queue after 3 receives, both encrypted', () => {
    expect(orgResources.OrgJobQueue!.Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      QueueName: 'ssm-readiness-auditor-prod-org-jobs.fifo',
      KmsMasterKeyId: { Ref: 'AlertKey' },
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['OrgJobDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 3,
      },
    });
    expect(orgResources.OrgJobDeadLetterQueue!.Properties).toMatchObject({
      FifoQueue: true,
      QueueName: 'ssm-readiness-auditor-prod-org-jobs-dlq.fifo',
      KmsMasterKeyId: { Ref: 'AlertKey' },
    });
    // The event source mapping requires a visibility timeout of at least the worker's timeout.
    expect(Number(orgResources.OrgJobQueue!.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
      Number(orgResources.OrgWorkerLambdaFunction!.Properties.Timeout),
    );
    for (const [, queue] of orgOfType('AWS::SQS::Queue'))
      expect(queue.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertKey' });
  });

  it('alarms on the dead-letter queue holding any job, and on the planner’s and worker’s errors, to the alert topic', () => {
    const alarms = orgOfType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AlarmName: 'ssm-readiness-auditor-prod-org-jobs-dead-letter-queue',
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            { Name: 'QueueName', Value: { 'Fn::GetAtt': ['OrgJobDeadLetterQueue', 'QueueName'] } },
          ],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'AlertTopic' }],
        }),
      ]),
    );
    const lambdaErrors = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors');
    expect(
      lambdaErrors.map((a) => (a.Dimensions as { Value: { Ref: string } }[])[0]!.Value.Ref).sort(),
    ).toEqual([
      'AdhocAuditLambdaFunction',
      'EventAuditLambdaFunction',
      'OrgPlanLambdaFunction',
      'OrgWorkerLambdaFunction',
      'ScheduledAuditLambdaFunction',
    ]);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
      expect(String(alarm.AlarmName).startsWith('ssm-readiness-auditor-prod-')).toBe(true);
    }
  });

  it('feeds the worker one job at a time, reporting failed items, at most orgConcurrency (default 50) at once', () => {
    const mappings = orgOfType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      BatchSize: 1,
      EventSourceArn: { 'Fn::GetAtt': ['OrgJobQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['OrgWorkerLambdaFunction', 'Arn'] },
      Enabled: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 25 },
    });
    const byDefault = rawTemplate.Resources.OrgWorkerEventSourceMappingSQSOrgJobQueue!;
    expect(byDefault.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 50 });
  });

  it('runs the planner on the orgSchedule (default every 6 hours), with retries and the events dead-letter queue', () => {
    expect(orgResources.OrgPlanScheduleRule!.Properties).toMatchObject({
      Name: 'ssm-readiness-auditor-prod-orgPlan-schedule',
      ScheduleExpression: 'rate(6 hours)',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': ['OrgPlanLambdaFunction', 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } },
        },
      ],
    });
    expect(orgResources.OrgPlanSchedulePermission!.Properties).toEqual({
      FunctionName: { 'Fn::GetAtt': ['OrgPlanLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['OrgPlanScheduleRule', 'Arn'] },
    });
  });

  it('gives the planner and the worker their own roles and the Organization-mode environment', () => {
    const queueUrl =
      'https://sqs.eu-west-1.amazonaws.com/123456789012/ssm-readiness-auditor-prod-org-jobs.fifo';
    const resolved: Record<string, string> = {
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:t',
      ORG_JOB_QUEUE_URL: queueUrl,
    };
    for (const [name, role] of [
      ['OrgPlanLambdaFunction', 'OrgPlanRole'],
      ['OrgWorkerLambdaFunction', 'OrgWorkerRole'],
    ] as const) {
      const fn = orgResources[name]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Role: { 'Fn::GetAtt': [role, 'Arn'] },
        Handler:
          name === 'OrgPlanLambdaFunction' ? 'functions/org-plan.handler' : 'functions/org-worker.handler',
      });
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars).toMatchObject({
        FINDINGS_TABLE: { Ref: 'FindingsTable' },
        ALERT_TOPIC_ARN: { Ref: 'AlertTopic' },
        ORG_JOB_QUEUE_URL: { Ref: 'OrgJobQueue' },
        ORG_MEMBER_ROLE_NAME: DEFAULT_MEMBER_ROLE_NAME,
        ORG_EXTERNAL_ID: '',
        ORG_ACCOUNTS: '',
        ORG_INCLUDE_OUS: '',
        ORG_EXCLUDE_ACCOUNTS: '',
        ORG_EXCLUDE_OUS: '',
        ORG_MANAGEMENT_ROLE_ARN: '',
        AUDIT_REGIONS: '',
        // The worker counts a job as failed on its last delivery: the queue's maxReceiveCount.
        ORG_MAX_RECEIVES: String(
          (orgResources.OrgJobQueue!.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
        ),
      });
      const env = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : (resolved[k] ?? 'table-name')]),
      );
      expect(parseLambdaEnv({ ...env, AWS_REGION: 'eu-west-1' })).toMatchObject({
        regions: ['eu-west-1'],
        regionsConfigured: false,
        org: { queueUrl, memberRoleName: DEFAULT_MEMBER_ROLE_NAME, maxReceives: 3 },
      });
    }
    const eventAudit = (
      orgResources.EventAuditLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(eventAudit).toMatchObject({ ORG_MEMBER_ROLE_NAME: DEFAULT_MEMBER_ROLE_NAME, ORG_EXTERNAL_ID: '' });
  });

  it('grants each role only its own actions: reads, its own resources, and the Organization-mode ones', () => {
    for (const [name, role] of orgOfType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of asList(statement.Action)) {
          expect(action.includes('*')).toBe(false);
          const allowed =
            (READ_ONLY.has(action) && FUNCTION_ROLES.includes(name)) ||
            OWN_RESOURCE_ACTIONS.has(action) ||
            Boolean(RECHECK_ACTIONS[name]?.has(action)) ||
            Boolean(ORG_ACTIONS[name]?.has(action));
          expect([name, action, allowed]).toEqual([name, action, true]);
        }
      }
    }
    // Neither Organization-mode role reads its own account: they work through the member roles.
    for (const name of ['OrgPlanRole', 'OrgWorkerRole']) {
      const policies = orgResources[name]!.Properties.Policies as { PolicyName: string }[];
      expect(policies.map((p) => p.PolicyName)).toEqual(['own-resources']);
    }
    const planner = statementsOf(orgResources.OrgPlanRole!);
    expect(planner.find((s) => asList(s.Action).includes('organizations:ListAccounts'))?.Action).toEqual(
      ORGANIZATIONS_READS,
    );
  });

  it('lets the worker (and the event audit) assume only the member role, by name, in the Organization', () => {
    const assume = (name: string) =>
      statementsOf(orgResources[name]!).filter((s) => asList(s.Action).includes('sts:AssumeRole'));
    expect(assume('OrgWorkerRole')).toEqual([ASSUME_MEMBER_ROLE]);
    expect(assume('EventAuditRole')).toEqual([ASSUME_MEMBER_ROLE]);
    // Without organizationId: only in the static orgAccounts (none when that is empty: closed by default).
    const raw = rawOrgTemplate.Resources.OrgWorkerRole!;
    const withoutOrgId = resolveIfs(raw, {
      ...evaluatedOrgConditions(),
      HasOrganizationId: false,
    }) as Resource;
    const statements = statementsOf(withoutOrgId).filter((s) => asList(s.Action).includes('sts:AssumeRole'));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Sid: 'AssumeMemberRole', Resource: MEMBER_ROLE_ARN });
    const condition = JSON.stringify((statements[0] as { Condition?: unknown }).Condition);
    expect(condition).toContain('aws:ResourceAccount');
    expect(condition).toContain('Fn::Split');
    // The planner assumes nothing, unless orgManagementRoleArn names a role to read Organizations with.
    expect(assume('OrgPlanRole')).toEqual([]);
    const withManagementRole = resolveIfs(rawOrgTemplate.Resources.OrgPlanRole!, {
      ...evaluatedOrgConditions(),
      HasManagementRole: true,
    }) as Resource;
    expect(
      statementsOf(withManagementRole)
        .filter((s) => asList(s.Action).includes('sts:AssumeRole'))
        .map((s) => s.Action),
    ).toEqual(['sts:AssumeRole']);
  });

  it('lets only the planner send to the job queue and only the worker receive from it', () => {
    const queue = { 'Fn::GetAtt': ['OrgJobQueue', 'Arn'] };
    const failed = { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] };
    const onQueue: Record<string, string[]> = {};
    for (const [name, role] of orgOfType('AWS::IAM::Role'))
      for (const statement of statementsOf(role)) {
        const sqs = asList(statement.Action).filter((a) => a.startsWith('sqs:'));
        if (sqs.length === 0) continue;
        // SendMessage only on the job queue and (the on-failure destination) the failed-invocations queue.
        for (const resource of asList(statement.Resource))
          expect([name, sqs, resource]).toEqual([name, sqs, expect.anything()]);
        if (JSON.stringify(statement.Resource) === JSON.stringify(queue)) (onQueue[name] ??= []).push(...sqs);
        else expect([name, statement.Resource]).toEqual([name, failed]);
      }
    expect(onQueue).toEqual({
      OrgPlanRole: ['sqs:SendMessage'],
      OrgWorkerRole: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
    });
  });

  it('accepts events on the central bus from accounts of the Organization only (aws:PrincipalOrgID)', () => {
    const policies = orgOfType('AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0]![1].Properties).toEqual({
      EventBusName: 'default',
      StatementId: 'ssm-readiness-auditor-prod-org-members',
      Statement: {
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
        },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION_ID } },
      },
    });
    expect(rawOrgTemplate.Resources.OrgEventBusPolicy!.Condition).toBe('IsOrgModeWithOrganizationId');
    expect(orgOutputs.CentralEventBusArn!.Value).toEqual(
      policies[0]![1].Properties.Statement && {
        'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
      },
    );
  });

  it('names for the member StackSet the roles it must trust, and its rules forward exactly what the event audit matches', () => {
    expect(orgOutputs.OrgAuditorRoleArns!.Value).toEqual({
      'Fn::Join': [
        ',',
        [{ 'Fn::GetAtt': ['OrgWorkerRole', 'Arn'] }, { 'Fn::GetAtt': ['EventAuditRole', 'Arn'] }],
      ],
    });
    const member = JSON.parse(readFileSync(MEMBER_STACKSET_FILE, 'utf8')) as Template;
    const forwarded = Object.values(member.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => r.Properties.EventPattern);
    const audited = orgOfType('AWS::Events::Rule')
      .filter(([, r]) => (r.Properties.Targets as { Arn: unknown }[])[0]!.Arn !== undefined)
      .filter(([, r]) =>
        JSON.stringify((r.Properties.Targets as { Arn: unknown }[])[0]!.Arn).includes(
          'EventAuditLambdaFunction',
        ),
      )
      .map(([, r]) => r.Properties.EventPattern);
    expect(audited).toHaveLength(6);
    expect(forwarded).toEqual(audited);
    expect((member.Parameters as Record<string, { Default?: string }>).MemberRoleName!.Default).toBe(
      DEFAULT_MEMBER_ROLE_NAME,
    );
  });
});

/** The conditions as the Organization-mode package resolves them (orgMode and organizationId set). */
function evaluatedOrgConditions(): Record<string, boolean> {
  return evaluateConditions(rawOrgTemplate);
}

describe('Security Hub (opt-in)', () => {
  /**
   * Packaged twice more with securityHub 'true': alone (single account) and with Organization mode, so
   * every audit function is covered (scheduledAudit, eventAudit, adhocAudit and orgWorker).
   */
  const AUDIT_FUNCTIONS: Record<string, string> = {
    ScheduledAuditLambdaFunction: 'ScheduledAuditRole',
    EventAuditLambdaFunction: 'EventAuditRole',
    AdhocAuditLambdaFunction: 'AdhocAuditRole',
  };
  // Every audited region's default product of this account (an audit imports into its own region).
  const DEFAULT_PRODUCT = {
    'Fn::Sub': 'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default',
  };
  let shDirs: string[] = [];
  let withSecurityHub: Record<string, Resource>;
  let withSecurityHubOrg: Record<string, Resource>;
  beforeAll(() => {
    shDirs = [
      mkdtempSync(path.join(tmpdir(), 'ssm-audit-package-sh-')),
      mkdtempSync(path.join(tmpdir(), 'ssm-audit-package-sh-org-')),
    ];
    const results = [
      packageService(shDirs[0]!, 'prod', { securityHub: 'true' }),
      // With the HTML report bucket too (its tests below).
      packageService(shDirs[1]!, 'prod', { ...ORG_PARAMS, securityHub: 'true', reportBucket: 'true' }),
    ];
    for (const result of results)
      if (result.status !== 0) throw new Error(`osls package failed:\n${result.stdout}\n${result.stderr}`);
    const read = (d: string) =>
      effectiveTemplate(
        JSON.parse(
          readFileSync(path.join(d, 'cloudformation-template-update-stack.json'), 'utf8'),
        ) as Template,
      ).Resources as Record<string, Resource>;
    withSecurityHub = read(shDirs[0]!);
    withSecurityHubOrg = read(shDirs[1]!);
  }, 300_000);
  afterAll(() => {
    for (const d of shDirs) rmSync(d, { recursive: true, force: true });
  });

  const securityHubStatements = (all: Record<string, Resource>) =>
    Object.entries(all)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .flatMap(([name, role]) =>
        statementsOf(role)
          .filter((s) => asList(s.Action).some((a) => a.toLowerCase().startsWith('securityhub:')))
          .map((s) => ({ name, statement: s })),
      );
  const securityHubEnv = (all: Record<string, Resource>) =>
    Object.fromEntries(
      Object.entries(all)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([name, fn]) => [
          name,
          (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.SECURITY_HUB,
        ]),
    );

  it('without the parameter (default false) nothing of Security Hub is granted, and the audits are told so', () => {
    expect(securityHubStatements(resources)).toEqual([]);
    expect(securityHubStatements(orgResources)).toEqual([]);
    expect(JSON.stringify(template.Resources).toLowerCase()).not.toContain('securityhub:');
    expect(securityHubEnv(resources)).toEqual({
      ScheduledAuditLambdaFunction: 'false',
      EventAuditLambdaFunction: 'false',
      AdhocAuditLambdaFunction: 'false',
    });
    expect(securityHubEnv(orgResources)).toMatchObject({ OrgWorkerLambdaFunction: 'false' });
  });

  it('with securityHub true: BatchImportFindings on the account’s default product only, for each audit function’s role', () => {
    for (const all of [withSecurityHub, withSecurityHubOrg]) {
      const expected = Object.entries(AUDIT_FUNCTIONS)
        .filter(([fn]) => all[fn] !== undefined)
        .map(([, role]) => role)
        .sort();
      const found = securityHubStatements(all);
      expect(found.map((f) => f.name).sort()).toEqual(expected);
      for (const { statement } of found)
        expect(statement).toEqual({
          Sid: 'SecurityHubImport',
          Effect: 'Allow',
          Action: 'securityhub:BatchImportFindings',
          Resource: DEFAULT_PRODUCT,
        });
    }
    // The three single-account functions; in Organization mode neither the planner nor the worker
    // (member accounts' findings are Security Hub's only from those accounts) imports anything.
    expect(securityHubStatements(withSecurityHub)).toHaveLength(3);
    expect(securityHubStatements(withSecurityHubOrg).map((f) => f.name)).not.toContain('OrgWorkerRole');
    expect(securityHubStatements(withSecurityHubOrg).map((f) => f.name)).not.toContain('OrgPlanRole');
  });

  it('with securityHub true: SECURITY_HUB=true in every audit function, its other variables kept', () => {
    expect(securityHubEnv(withSecurityHub)).toEqual({
      ScheduledAuditLambdaFunction: 'true',
      EventAuditLambdaFunction: 'true',
      AdhocAuditLambdaFunction: 'true',
    });
    const org = securityHubEnv(withSecurityHubOrg);
    for (const fn of Object.keys(AUDIT_FUNCTIONS)) expect([fn, org[fn]]).toEqual([fn, 'true']);
    // The worker keeps the Organization-mode environment it shares with the planner.
    const worker = (
      withSecurityHubOrg.OrgWorkerLambdaFunction!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    const planner = (
      withSecurityHubOrg.OrgPlanLambdaFunction!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(worker).toEqual({ ...planner, SECURITY_HUB: 'true' });
  });

  it('the Security Hub grant changes nothing else: the roles are the default ones plus that statement', () => {
    for (const [name, role] of Object.entries(withSecurityHub).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role',
    )) {
      const others = statementsOf(role).filter(
        (s) => !asList(s.Action).includes('securityhub:BatchImportFindings'),
      );
      expect([name, others]).toEqual([name, statementsOf(resources[name]!)]);
    }
  });

  it('with reportBucket true: a private, encrypted, TLS-only, expiring bucket; only the scheduled audit may write reports/*', () => {
    const all = withSecurityHubOrg;
    const bucket = all.ReportBucket!;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [{ Status: 'Enabled', Prefix: 'reports/', ExpirationInDays: 90 }] },
    });
    const policy = all.ReportBucketPolicy!.Properties.PolicyDocument as {
      Statement: Record<string, unknown>[];
    };
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    const writers = Object.entries(all)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .flatMap(([name, role]) =>
        statementsOf(role)
          .filter((st) => asList(st.Action).some((x) => x.startsWith('s3:')))
          .map((st) => [name, st.Action, st.Resource]),
      );
    expect(writers).toEqual([
      ['ScheduledAuditRole', 's3:PutObject', { 'Fn::Sub': '${ReportBucket.Arn}/reports/*' }],
    ]);
    const env = (
      all.ScheduledAuditLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env.REPORT_BUCKET).toEqual({ Ref: 'ReportBucket' });
  });
});

describe('the HTML report bucket (reportBucket)', () => {
  it('without the parameter there is no bucket and nothing of S3 is granted', () => {
    expect(resources.ReportBucket).toBeUndefined();
    expect(resources.ReportBucketPolicy).toBeUndefined();
    const roles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(JSON.stringify(roles)).not.toContain('s3:PutObject');
    expect(
      (
        resources.ScheduledAuditLambdaFunction!.Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables.REPORT_BUCKET,
    ).toBe('');
  });
});
