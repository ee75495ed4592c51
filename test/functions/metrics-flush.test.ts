import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { handleAdhoc, handleEvent, handleScheduled } from '../../functions/lib/handlers';
import { createRuntime, type Runtime } from '../../functions/lib/runtime';

/**
 * Issue 9: every handler flushes its metrics however it ends, so an invocation whose audit throws still
 * reports (EventsHandled, and whatever the audit measured before it failed).
 */

const EVENTS = path.join(__dirname, '..', 'fixtures', 'events');
const event = (name: string) => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as unknown;
const context = { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:audit' };

// The audits' per-status single metrics print EMF at once; keep the test output quiet.
const savedDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
beforeAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});
afterAll(() => {
  if (savedDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = savedDisabled;
});

/** A runtime whose AWS calls and findings table all fail. */
function failingRuntime() {
  const base = createRuntime({ FINDINGS_TABLE: 'findings', AWS_REGION: 'eu-west-1' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  /** Whether metrics were waiting at each flush: a flush after EventsHandled was added finds one. */
  const flushes: boolean[] = [];
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    flushes.push(metrics.hasStoredMetrics());
    metrics.clearMetrics();
    return metrics;
  });
  const fail = () => {
    throw Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' });
  };
  const rt: Runtime = {
    ...base,
    clientsFor: fail,
    store: new Proxy(base.store, { get: () => fail }),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  };
  return { rt, flushes };
}

describe('metrics are flushed when a handler throws', () => {
  it.each([
    {
      case: 'scheduled audit, every region failing',
      run: (rt: Runtime) => handleScheduled(event('scheduled-event.json'), rt, context),
      expected: /audit failed in eu-west-1/,
      pending: false,
    },
    {
      case: 'event audit of an instance, the audit failing',
      run: (rt: Runtime) => handleEvent(event('ec2-state-change-running.json'), rt, context),
      expected: /InternalServerError: Service unavailable/,
      pending: true,
    },
    {
      case: 'event audit of a security group, the VPC lookup failing',
      run: (rt: Runtime) =>
        handleEvent(event('cloudtrail-authorize-security-group-egress.json'), rt, context),
      expected: /Service unavailable/,
      pending: true,
    },
    {
      case: 'event closing a terminated instance, the table failing',
      run: (rt: Runtime) => handleEvent(event('ec2-state-change-terminated.json'), rt, context),
      expected: /Service unavailable/,
      pending: true,
    },
    {
      case: 'ad-hoc audit, the audit failing',
      run: (rt: Runtime) => handleAdhoc({ dryRun: true }, rt, context),
      expected: /Service unavailable/,
      pending: false,
    },
  ])('$case', async ({ run, expected, pending }) => {
    // Prepare
    const { rt, flushes } = failingRuntime();
    // Act
    await expect(run(rt)).rejects.toThrow(expected);
    // Assess: flushed exactly once; the event handlers had counted the event before failing
    expect(flushes).toEqual([pending]);
  });

  it('an event rejected at the edge has nothing to flush and does not flush', async () => {
    const { rt, flushes } = failingRuntime();
    await expect(handleEvent({ hello: 'world' }, rt, context)).rejects.toThrow(/^event/);
    expect(flushes).toEqual([]);
  });
});
