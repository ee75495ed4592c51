import { RULES } from '../../rules';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auditSnapshot } from '../../shared/engine/audit';
import { createAwsClients, destroyAwsClients } from '../../shared/aws/clients';
import { collectSnapshot } from '../../shared/collect/collect';
import { CollectionContext } from '../../shared/collect/context';
import { measureBlackHole } from '../../scripts/dev/bench-faults';
import { buildCollectionFleet } from '../support/collection-fleet';
import { awsError } from '../support/fake-aws';
import { collectionHarness } from '../support/collection-harness';

/**
 * Issue 9 item 7: faults during collection. An endpoint that never answers costs one request timeout
 * per service and audit (no SDK retry of a timeout, a circuit breaker per service, a deadline for the
 * whole collection); a denial is never retried; a failure is worded as a failure, not as a denial.
 * Timeouts are small and injected; nothing here asserts elapsed time.
 */

const NOW = new Date('2026-11-23T10:00:00Z');
const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

const sum = (counts: Record<string, number>, service: string) =>
  Object.entries(counts)
    .filter(([action]) => action.startsWith(`${service}:`))
    .reduce((n, [, c]) => n + c, 0);

describe('an endpoint that accepts connections and never answers (bench-faults)', () => {
  it('SSM black hole: one request, no SDK retry, every SSM call failed with a timeout, not a denial', async () => {
    // Act
    const result = await measureBlackHole({
      services: 'ssm',
      instances: 20,
      requestTimeoutMs: 100,
      now: NOW,
    });
    // Assess: the collector sent one SSM request (the first GetServiceSetting); the SDK retried nothing.
    expect(sum(result.sent, 'ssm')).toBe(1);
    expect(result.requests).toBeLessThanOrEqual(1);
    expect(result.retries).toBe(0);
    expect(result.calls['ssm:GetServiceSetting']).toMatchObject({
      status: 'error',
      error: 'timed out after 0.1 s',
    });
    for (const action of ['ssm:DescribeActivations', 'ssm:DescribeInstanceInformation'])
      expect(result.calls[action]).toMatchObject({
        status: 'error',
        error: 'not sent: the ssm endpoint timed out after 0.1 s',
      });
    // EC2 and IAM answered as usual.
    expect(Object.keys(result.calls).every((action) => action.startsWith('ssm:'))).toBe(true);
    const ssmErrors = result.findings.filter((f) => f.status === 'ERROR' && f.message.includes(' ssm:'));
    expect(ssmErrors.length).toBeGreaterThan(20);
    for (const f of ssmErrors) {
      expect(f.reason).toBe('API_CALL_FAILED');
      expect(f.message).toMatch(/ssm:\w+ failed \((not sent: the ssm endpoint )?timed out after 0\.1 s\)/);
      expect(f.remediation).toMatch(/^Retry the audit/);
      expect(f.remediation).not.toMatch(/Allow|principal/);
    }
  });

  it('every endpoint a black hole: one request per service, then nothing more is sent', async () => {
    const result = await measureBlackHole({ services: 'all', requestTimeoutMs: 100, now: NOW });
    expect(result.sent).toEqual({
      'ec2:DescribeInstances': 1,
      'ssm:GetServiceSetting': 1,
      'iam:GetAccountAuthorizationDetails': 1,
    });
    expect(result.requests).toBeLessThanOrEqual(3);
    expect(result.retries).toBe(0);
    const records = Object.values(result.calls);
    expect(records.length).toBe(13);
    expect(records.every((r) => r.status === 'error' && /timed out after 0\.1 s$/.test(r.error))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// A local endpoint speaking each service's real protocol.

type Answer = (service: string, req: IncomingMessage, res: import('node:http').ServerResponse) => void;

async function withEndpoint<T>(
  answer: Answer | 'black hole',
  run: (seen: { action: string; attempt: number }[]) => Promise<T>,
): Promise<T> {
  const seen: { action: string; attempt: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const service =
        /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(
          String(req.headers.authorization),
        )?.[1] ?? 'unsigned';
      const action =
        /Action=([A-Za-z]+)/.exec(body)?.[1] ??
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop();
      const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request']))?.[1] ?? 1);
      seen.push({ action: `${service}:${action}`, attempt });
      if (answer !== 'black hole') answer(service, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const saved = { ...process.env };
  Object.assign(process.env, FAKE_CREDENTIALS, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  try {
    return await run(seen);
  } finally {
    process.env = saved;
    server.closeAllConnections();
    server.close();
  }
}

/** A date no machine's clock is within 5 minutes of: the SDK corrects its clock skew from it. */
const SKEWED_DATE = 'Mon, 01 Jan 2001 00:00:00 GMT';

const deny: Answer = (service, _req, res) => {
  if (service === 'ssm') {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', date: SKEWED_DATE });
    res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized' }));
  } else if (service === 'ec2') {
    res.writeHead(403, { 'content-type': 'text/xml', date: SKEWED_DATE });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>',
    );
  } else {
    res.writeHead(403, { 'content-type': 'text/xml', date: SKEWED_DATE });
    res.end(
      '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>',
    );
  }
};

const html500: Answer = (_service, _req, res) => {
  res.writeHead(500, { 'content-type': 'text/html' });
  res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
};

async function collectLive(options: { requestTimeoutMs?: number; deadlineMs?: number } = {}) {
  const clients = createAwsClients({ region: 'eu-west-1', requestTimeoutMs: options.requestTimeoutMs });
  try {
    const result = await collectSnapshot(clients, {
      region: 'eu-west-1',
      accountId: '123456789012',
      now: () => NOW,
      backoff: { sleep: async () => undefined },
      deadlineMs: options.deadlineMs,
    });
    return { ...result, findings: auditSnapshot(result.snapshot, { rules: RULES, now: NOW }).findings };
  } finally {
    destroyAwsClients(clients);
  }
}

describe('denials and failures over the wire', () => {
  it('never retries a denied call, not even after the SDK corrects its clock skew', async () => {
    await withEndpoint(deny, async (seen) => {
      const result = await collectLive();
      // Each logical call reached the endpoint once: no SDK attempt 2, no backoff retry.
      expect(seen.filter((s) => s.attempt > 1)).toEqual([]);
      const perAction = new Map<string, number>();
      for (const { action } of seen) perAction.set(action, (perAction.get(action) ?? 0) + 1);
      expect(perAction.get('ssm:GetServiceSetting')).toBe(2); // two settings
      expect([...perAction].filter(([a]) => a !== 'ssm:GetServiceSetting').every(([, n]) => n === 1)).toBe(
        true,
      );
      expect(result.snapshot.calls['ssm:GetServiceSetting']).toMatchObject({
        status: 'denied',
        error: 'AccessDeniedException',
      });
      expect(result.snapshot.calls['ec2:DescribeInstances']).toMatchObject({
        status: 'denied',
        error: 'UnauthorizedOperation',
      });
      const denied = result.findings.filter((f) => f.reason === 'API_CALL_DENIED');
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.every((f) => f.remediation.includes("for the auditor's IAM principal"))).toBe(true);
    });
  });

  it('an HTML 500 is recorded as a failed call naming HTTP 500, not SyntaxError, and not as a denial', async () => {
    await withEndpoint(html500, async () => {
      const result = await collectLive();
      expect(result.snapshot.calls['ssm:GetServiceSetting']).toMatchObject({
        status: 'error',
        error: 'HTTP 500',
      });
      expect(result.snapshot.calls['ec2:DescribeInstances']).toMatchObject({
        status: 'error',
        error: 'HTTP 500',
      });
      const errors = result.findings.filter((f) => f.status === 'ERROR');
      expect(errors.length).toBeGreaterThan(0);
      for (const f of errors) {
        expect(f.reason).toBe('API_CALL_FAILED');
        expect(f.message).toMatch(/: (\w+:\w+) failed \(HTTP 500\)\.$/);
        expect(f.message).not.toContain('SyntaxError');
        expect(f.remediation).toMatch(/^Retry the audit; if \w+:\w+ keeps failing/);
        expect(f.remediation).not.toContain('principal');
      }
    });
  });

  it('a refused connection is recorded as ECONNREFUSED, and that service gets no further call', async () => {
    // A port that was free a moment ago and has no listener.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const saved = { ...process.env };
    Object.assign(process.env, FAKE_CREDENTIALS, { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    try {
      const result = await collectLive();
      expect(result.stats.calls).toEqual({
        'ec2:DescribeInstances': 1,
        'ssm:GetServiceSetting': 1,
        'iam:GetAccountAuthorizationDetails': 1,
      });
      expect(result.snapshot.calls['ssm:GetServiceSetting']).toMatchObject({
        status: 'error',
        error: 'ECONNREFUSED',
      });
      expect(result.snapshot.calls['ssm:DescribeInstanceInformation']).toMatchObject({
        status: 'error',
        error: 'not sent: the ssm endpoint failed with ECONNREFUSED',
      });
      expect(
        result.findings.some((f) => f.message.includes('ec2:DescribeInstances failed (ECONNREFUSED)')),
      ).toBe(true);
    } finally {
      process.env = saved;
    }
  });

  it('the deadline aborts requests in flight: a black hole with a 10-minute request timeout still ends', async () => {
    await withEndpoint('black hole', async () => {
      const result = await collectLive({ requestTimeoutMs: 600_000, deadlineMs: 300 });
      const records = Object.values(result.snapshot.calls);
      expect(records.length).toBe(13);
      expect(records.every((r) => r.status === 'error' && r.error === 'deadline exceeded')).toBe(true);
      expect(result.findings.some((f) => f.message.includes('failed (deadline exceeded)'))).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The collection context itself, with an injected clock and test doubles.

describe('collection deadline (injected clock)', () => {
  const h = collectionHarness();

  it('after the deadline no further request is sent; the calls left are recorded as deadline exceeded', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 30 });
    const fake = h.serve(snapshot);
    let now = 0;
    const result = await h.collect(snapshot, {
      accountId: snapshot.accountId,
      clock: () => now,
      deadlineMs: 5_000,
      // The clock passes the deadline as the third request goes out.
      onProgress: ({ calls }) => {
        if (calls >= 3) now = 10_000;
      },
    });
    expect(fake.totalCalls()).toBe(3);
    const records = Object.entries(result.snapshot.calls);
    expect(records.length).toBeGreaterThan(8);
    expect(records.every(([, r]) => r.status === 'error' && r.error === 'deadline exceeded')).toBe(true);
    expect(result.snapshot.calls['ec2:DescribeVpcs']).toBeDefined();
    expect(result.snapshot.calls['iam:GetAccountAuthorizationDetails']).toBeDefined();
  });
});

describe('circuit breaker per service', () => {
  const timeout = () =>
    Object.assign(new Error('a request has exceeded the configured 20000 ms requestTimeout.'), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });

  it('after a timeout, later calls to that service are not sent; other services are unaffected', async () => {
    const ctx = new CollectionContext({ backoff: { sleep: async () => undefined } });
    const sent: string[] = [];
    const send = (action: string, outcome: () => Promise<number>) =>
      ctx.call(action, () => {
        sent.push(action);
        return outcome();
      });
    await send('ssm:DescribeActivations', () => Promise.reject(timeout()));
    const later = await send('ssm:DescribeInstanceInformation', async () => 1);
    const other = await send('ec2:DescribeVpcs', async () => 2);
    ctx.close();
    expect(sent).toEqual(['ssm:DescribeActivations', 'ec2:DescribeVpcs']);
    expect(later).toEqual({ status: 'failed' });
    expect(other).toEqual({ status: 'ok', value: 2 });
    expect(ctx.failures).toEqual({
      'ssm:DescribeActivations': {
        status: 'error',
        error: 'timed out after 20 s',
        message: 'a request has exceeded the configured 20000 ms requestTimeout.',
      },
      'ssm:DescribeInstanceInformation': expect.objectContaining({
        status: 'error',
        error: 'not sent: the ssm endpoint timed out after 20 s',
      }),
    });
  });

  it("a service's first call goes alone: concurrent calls wait for it, then follow its outcome", async () => {
    const ctx = new CollectionContext();
    const sent: string[] = [];
    let fail!: (err: Error) => void;
    const first = ctx.call('iam:GetRole', () => {
      sent.push('first');
      return new Promise<number>((_resolve, reject) => (fail = reject));
    });
    const second = ctx.call('iam:GetRolePolicy', async () => {
      sent.push('second');
      return 2;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['first']);
    fail(timeout());
    expect(await first).toEqual({ status: 'failed' });
    expect(await second).toEqual({ status: 'failed' });
    expect(sent).toEqual(['first']);

    // Once a service has answered (here: a denial), calls go out concurrently.
    const ctx2 = new CollectionContext();
    const order: string[] = [];
    await ctx2.call('ec2:DescribeVpcs', async () => {
      throw awsError('UnauthorizedOperation', 'no', 403);
    });
    let release!: () => void;
    const slow = ctx2.call('ec2:DescribeSubnets', () => {
      order.push('subnets');
      return new Promise<number>((resolve) => (release = () => resolve(1)));
    });
    const fast = ctx2.call('ec2:DescribeRouteTables', async () => {
      order.push('route tables');
      return 2;
    });
    expect(await fast).toEqual({ status: 'ok', value: 2 });
    release();
    expect(await slow).toEqual({ status: 'ok', value: 1 });
    expect(order).toEqual(['subnets', 'route tables']);
    ctx.close();
    ctx2.close();
  });
});
