import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as onEvent } from '../../functions/event-audit';
import { handler as scheduled } from '../../functions/scheduled-audit';
import { parseEnvelope, planForEnvelope } from '../../shared/events/event-plan';
import { ConfigurationError, parseLambdaEnv, resetRuntime } from '../../functions/lib/runtime';
import { FindingsStore } from '../../shared/store/findings-store';
import { alertFor } from '../../shared/store/diff';
import { ensureTable } from '../../shared/store/table';
import { instanceInfo } from '../support/builders';
import { buildCollectionFleet } from '../support/collection-fleet';
import { fakeAwsFromSnapshot, awsError, type FakeAws } from '../support/fake-aws';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/ssm-audit/local-dynamodb';
import type { SnapshotInput } from '../../shared/snapshot/schema';

/**
 * DESIGN §3 R7 "Launch grace", end to end through the deployed event handler: a `running` state change
 * of an instance that has not registered yet alerts nothing and schedules a one-time EventBridge
 * Scheduler re-check at the end of its grace; the re-check (the schedule's input, delivered to the same
 * handler at a later injected clock) alerts exactly once if the instance never registered, and not at
 * all if it did. EC2/SSM/IAM: the snapshot-backed fake account; SNS and Scheduler: aws-sdk-client-mock;
 * the findings table: dynalite.
 */

const EVENTS = path.join(__dirname, '..', 'fixtures', 'events');
const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:ssm-readiness-auditor-test-eventAudit';
const ROLE = 'arn:aws:iam::123456789012:role/ssm-readiness-auditor-test-recheck';
const GROUP = 'ssm-readiness-auditor-test-rechecks';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ssm-readiness-alerts';
const context = {
  functionName: 'ssm-readiness-auditor-test-eventAudit',
  invokedFunctionArn: TARGET,
  awsRequestId: 'req-1',
} as unknown as Context;

/** i-...3b: profile app-19 (core policy), internet path: every prerequisite passes, never registered. */
const ID = 'i-0000000000000003b';
const LAUNCHED = '2026-11-23T08:58:00Z';
/** The first audit: two minutes after the launch. */
const AUDIT_TIME = new Date('2026-11-23T09:00:00Z');
/** The grace (30 minutes) ends at 09:28; the re-check fires at the next minute plus one: 09:29. */
const DUE = '2026-11-23T09:28:00.000Z';
const FIRES = '2026-11-23T09:29:00';
const RECHECK_TIME = new Date('2026-11-23T09:29:04Z');

const sns = mockClient(SNSClient);
const scheduler = mockClient(SchedulerClient);
let local: LocalDynamo;
let tables = 0;
let store: FindingsStore;
let fake: FakeAws | undefined;
/** The schedules the fake Scheduler holds, by name (a second CreateSchedule of a name: ConflictException). */
let schedules: Map<string, CreateScheduleCommandInput>;
const saved = { ...process.env };

/** The collection fleet, with i-...3b launched at `LAUNCHED` and (optionally) registered since. */
function account(options: { registered?: boolean } = {}): SnapshotInput {
  const { snapshot } = buildCollectionFleet({ instances: 60 });
  for (const reservation of snapshot.ec2!.Reservations!)
    for (const instance of reservation.Instances)
      if (instance.InstanceId === ID) instance.LaunchTime = LAUNCHED;
  if (options.registered) snapshot.ssm!.InstanceInformationList!.push(instanceInfo({ id: ID }));
  return snapshot;
}

function serve(snapshot: SnapshotInput): void {
  fake?.restore();
  fake = fakeAwsFromSnapshot(snapshot);
}

const at = (time: Date) => resetRuntime({ clock: () => time });

function runningEvent(): Record<string, unknown> {
  const event = JSON.parse(readFileSync(path.join(EVENTS, 'ec2-state-change-running.json'), 'utf8'));
  event.time = '2026-11-23T08:58:20Z';
  event.resources = [`arn:aws:ec2:eu-west-1:123456789012:instance/${ID}`];
  event.detail['instance-id'] = ID;
  return event;
}

/** The transition alerts sent (the digest left out), as [kind, ruleId, status, resource]. */
const alerts = () =>
  sns
    .commandCalls(PublishBatchCommand)
    .flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? [])
    .filter((e: PublishBatchRequestEntry) => e.MessageAttributes?.kind?.StringValue !== 'DIGEST')
    .map((e) => {
      const a = e.MessageAttributes ?? {};
      const body = JSON.parse(JSON.parse(e.Message!).default) as { finding?: { resourceId?: string } };
      return [a.kind?.StringValue, a.ruleId?.StringValue, a.status?.StringValue, body.finding?.resourceId];
    });

const managedStatus = async () =>
  (await store.findingsOfResource(ID)).find((f) => f.ruleId === 'managed-status');

beforeAll(async () => {
  local = await startLocalDynamo('registration-grace');
});
afterAll(async () => {
  sns.restore();
  scheduler.restore();
  await local.stop();
});

beforeEach(async () => {
  const table = `grace-${++tables}`;
  await ensureTable(local.client, table);
  store = new FindingsStore({ client: local.doc, tableName: table });
  Object.assign(process.env, {
    FINDINGS_TABLE: table,
    ALERT_TOPIC_ARN: TOPIC,
    AWS_REGION: 'eu-west-1',
    AUDIT_REGIONS: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // As serverless.yml sets them for the event-audit function.
    REGISTRATION_GRACE_MINUTES: '30',
    RECHECK_SCHEDULE_GROUP: GROUP,
    RECHECK_ROLE_ARN: ROLE,
    RECHECK_TARGET_ARN: TARGET,
  });
  at(AUDIT_TIME);
  sns.reset();
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: PublishBatchRequestEntry[] }) => ({
      Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
      Failed: [],
    }));
  schedules = new Map();
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
    if (schedules.has(input.Name!))
      throw new ConflictException({
        message: `Schedule ${input.Name} already exists.`,
        Message: `Schedule ${input.Name} already exists.`,
        $metadata: {},
      });
    schedules.set(input.Name!, input);
    return { ScheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/${GROUP}/${input.Name}` };
  });
  serve(account());
});
afterEach(() => {
  fake?.restore();
  fake = undefined;
  process.env = { ...saved };
  resetRuntime();
});

/** The one schedule created, and the event it will deliver. */
function theSchedule(): { input: CreateScheduleCommandInput; event: Record<string, unknown> } {
  expect(schedules.size).toBe(1);
  const [input] = [...schedules.values()];
  return { input: input!, event: JSON.parse(input!.Target!.Input!) as Record<string, unknown> };
}

describe('launch grace through the event handler', () => {
  it('a running instance that has not registered yet: no alert, REGISTRATION_PENDING stored, a re-check scheduled at the end of its grace', async () => {
    const result = await onEvent(runningEvent(), context);

    expect(result).toMatchObject({
      action: 'audit',
      reason: `${ID} is running`,
      regions: [expect.objectContaining({ rechecks: { scheduled: 1, existing: 0, failed: 0 } })],
    });
    expect(alerts()).toEqual([]);
    expect(await managedStatus()).toMatchObject({
      status: 'NOT_APPLICABLE',
      reason: 'REGISTRATION_PENDING',
      evidence: expect.objectContaining({ registrationDueAt: DUE }),
    });
    const { input, event } = theSchedule();
    expect(input).toEqual({
      Name: 'recheck-eu-west-1-i-0000000000000003b-20261123T092800Z',
      GroupName: GROUP,
      Description: expect.stringContaining(ID),
      ScheduleExpression: `at(${FIRES})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: TARGET,
        RoleArn: ROLE,
        Input: expect.any(String),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 },
      },
    });
    // Reported within grace + 15 minutes of the launch.
    const firesAfterLaunch = Date.parse(`${FIRES}Z`) - Date.parse(LAUNCHED);
    expect(firesAfterLaunch).toBeLessThanOrEqual((30 + 15) * 60_000);
    // The input is an EventBridge event the handler validates, planned as an audit of that instance.
    expect(planForEnvelope(parseEnvelope(event), ['eu-west-1'])).toEqual({
      action: 'audit',
      targets: [{ region: 'eu-west-1', scope: { kind: 'instances', instanceIds: [ID] } }],
      reason: `re-check of ${ID}: its registration grace ended at ${DUE}`,
    });
    expect(event).toMatchObject({
      source: 'ssm-readiness-auditor',
      'detail-type': 'SSM readiness re-check',
      account: '123456789012',
      region: 'eu-west-1',
      resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${ID}`],
      detail: { 'instance-id': ID, registrationDueAt: DUE },
    });
  });

  it('the same running event twice, and again a minute later: one schedule (its name is the instance and the grace end)', async () => {
    await onEvent(runningEvent(), context);
    const again = await onEvent(runningEvent(), context);
    at(new Date('2026-11-23T09:01:00Z'));
    const later = await onEvent(runningEvent(), context);

    for (const result of [again, later])
      expect(result).toMatchObject({
        regions: [expect.objectContaining({ rechecks: { scheduled: 0, existing: 1, failed: 0 } })],
      });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(3);
    expect(schedules.size).toBe(1);
    expect(alerts()).toEqual([]);
  });

  it('the re-check of an instance that never registered: exactly one alert, the managed-status failure', async () => {
    await onEvent(runningEvent(), context);
    const { event } = theSchedule();
    expect(alerts()).toEqual([]);

    at(RECHECK_TIME);
    const result = await onEvent(event, context);

    expect(result).toMatchObject({
      action: 'audit',
      reason: `re-check of ${ID}: its registration grace ended at ${DUE}`,
    });
    expect(await managedStatus()).toMatchObject({ status: 'FAIL', reason: 'UNMANAGED_AGENT_NOT_RUNNING' });
    // The first alert about this instance. Its kind is the store's for NOT_APPLICABLE → FAIL
    // (shared/store/diff.ts alertFor); the other rules passed before and after, so they send nothing.
    expect(alerts()).toEqual([[alertFor('NOT_APPLICABLE', 'FAIL'), 'managed-status', 'FAIL', ID]]);
    // Past the grace: nothing more is scheduled.
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);

    // The re-check delivered again (Lambda's async retry, a duplicate): no second alert.
    sns.resetHistory();
    await onEvent(event, context);
    expect(alerts()).toEqual([]);
  });

  it('the re-check of an instance that registered in the meantime: resolves nothing, alerts nothing', async () => {
    await onEvent(runningEvent(), context);
    const { event } = theSchedule();

    serve(account({ registered: true }));
    at(RECHECK_TIME);
    await onEvent(event, context);

    expect(await managedStatus()).toMatchObject({ status: 'PASS', reason: 'MANAGED_ONLINE' });
    expect(alerts()).toEqual([]);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
  });

  it('today’s defect: without the grace the running event alerts (registrationGraceMinutes 0)', async () => {
    process.env.REGISTRATION_GRACE_MINUTES = '0';
    at(AUDIT_TIME);
    await onEvent(runningEvent(), context);
    expect(alerts()).toEqual([['NEW_FAILURE', 'managed-status', 'FAIL', ID]]);
    expect(schedules.size).toBe(0);
  });

  it('a schedule that cannot be created is counted and logged; the audit’s findings are stored', async () => {
    scheduler.on(CreateScheduleCommand).rejects(awsError('AccessDeniedException', 'not authorized', 403));
    const result = await onEvent(runningEvent(), context);
    expect(result).toMatchObject({
      regions: [expect.objectContaining({ rechecks: { scheduled: 0, existing: 0, failed: 1 } })],
    });
    expect(await managedStatus()).toMatchObject({ reason: 'REGISTRATION_PENDING' });
    expect(alerts()).toEqual([]);
  });

  it('a function without the re-check settings (the scheduled audit) stores the pending finding and schedules nothing', async () => {
    for (const key of ['RECHECK_SCHEDULE_GROUP', 'RECHECK_ROLE_ARN', 'RECHECK_TARGET_ARN'])
      delete process.env[key];
    at(AUDIT_TIME);
    const scheduledEvent = JSON.parse(readFileSync(path.join(EVENTS, 'scheduled-event.json'), 'utf8'));
    await scheduled(scheduledEvent, context);
    expect(await managedStatus()).toMatchObject({ reason: 'REGISTRATION_PENDING' });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
    expect(alerts().filter(([, , , resource]) => resource === ID)).toEqual([]);
  });
});

describe('the re-check settings of the Lambda environment', () => {
  const base = { FINDINGS_TABLE: 'findings', AWS_REGION: 'eu-west-1' };
  it.each([
    { case: 'none: no re-checks, the default grace', env: {}, expected: { registrationGraceMinutes: 30 } },
    {
      case: 'all three, and a grace of 10 minutes',
      env: {
        REGISTRATION_GRACE_MINUTES: '10',
        RECHECK_SCHEDULE_GROUP: GROUP,
        RECHECK_ROLE_ARN: ROLE,
        RECHECK_TARGET_ARN: TARGET,
      },
      expected: {
        registrationGraceMinutes: 10,
        recheck: { groupName: GROUP, roleArn: ROLE, targetArn: TARGET },
      },
    },
  ])('$case', ({ env, expected }) => {
    const parsed = parseLambdaEnv({ ...base, ...env });
    expect(parsed).toMatchObject(expected);
    if (!('recheck' in expected)) expect(parsed.recheck).toBeUndefined();
  });

  it.each([
    { case: 'only some of the three', env: { RECHECK_SCHEDULE_GROUP: GROUP }, message: /go together/ },
    {
      case: 'a target that is not a function ARN',
      env: { RECHECK_SCHEDULE_GROUP: GROUP, RECHECK_ROLE_ARN: ROLE, RECHECK_TARGET_ARN: 'eventAudit' },
      message: /RECHECK_TARGET_ARN must be a Lambda function ARN/,
    },
    {
      case: 'a negative grace',
      env: { REGISTRATION_GRACE_MINUTES: '-1' },
      message: /REGISTRATION_GRACE_MINUTES/,
    },
  ])('rejects $case', ({ env, message }) => {
    expect(() => parseLambdaEnv({ ...base, ...env })).toThrow(ConfigurationError);
    expect(() => parseLambdaEnv({ ...base, ...env })).toThrow(message);
  });
});
