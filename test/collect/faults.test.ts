import { AuditRetryStrategy, sdkMayRetry } from '../../shared/aws/clients';
import {
  describeFailure,
  errorName,
  isDenied,
  isThrottled,
  isUnreachable,
  mapLimit,
  withBackoff,
} from '../../shared/aws/faults';

const awsError = (name: string) => Object.assign(new Error(name), { name });

describe('fault classification', () => {
  it.each([
    { name: 'UnauthorizedOperation', denied: true, throttled: false },
    { name: 'AccessDenied', denied: true, throttled: false },
    { name: 'AccessDeniedException', denied: true, throttled: false },
    { name: 'RequestLimitExceeded', denied: false, throttled: true },
    { name: 'Throttling', denied: false, throttled: true },
    { name: 'ThrottlingException', denied: false, throttled: true },
    { name: 'InternalError', denied: false, throttled: false },
  ])('$name', ({ name, denied, throttled }) => {
    expect(errorName(awsError(name))).toBe(name);
    expect(isDenied(awsError(name))).toBe(denied);
    expect(isThrottled(awsError(name))).toBe(throttled);
  });
});

describe('withBackoff', () => {
  it('retries throttles with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withBackoff(
      async () => {
        calls += 1;
        if (calls < 3) throw awsError('ThrottlingException');
        return 'ok';
      },
      { sleep: async (ms) => void delays.push(ms), random: () => 1, baseDelayMs: 100 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([100, 200]);
  });

  it('gives up after the configured retries and rethrows the throttle', async () => {
    let calls = 0;
    const attempt = withBackoff(
      async () => {
        calls += 1;
        throw awsError('RequestLimitExceeded');
      },
      { retries: 2, sleep: async () => undefined },
    );
    await expect(attempt).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(calls).toBe(3);
  });

  it('never retries a denied call', async () => {
    let calls = 0;
    await expect(
      withBackoff(async () => {
        calls += 1;
        throw awsError('AccessDenied');
      }),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(calls).toBe(1);
  });
});

describe('mapLimit', () => {
  it('keeps at most `limit` tasks in flight and preserves order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });
});

describe('describeFailure: denials keep their name, failures say what failed', () => {
  const withStatus = (name: string, message: string, status: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
  const nodeError = (code: string, message: string, name = 'Error') =>
    Object.assign(new Error(message), { name, code });
  it.each([
    {
      case: 'SSM denial',
      err: withStatus('AccessDeniedException', 'not authorized', 400),
      expected: { status: 'denied', error: 'AccessDeniedException' },
    },
    {
      case: 'EC2 denial',
      err: withStatus('UnauthorizedOperation', 'no', 403),
      expected: { status: 'denied', error: 'UnauthorizedOperation' },
    },
    {
      case: 'an HTML 500 the SDK could not parse',
      err: withStatus('SyntaxError', `Unexpected token '<', "<html>" is not valid JSON`, 500),
      expected: { status: 'error', error: 'HTTP 500' },
    },
    {
      case: 'an HTML 403 from a proxy (not an IAM denial)',
      err: withStatus('SyntaxError', 'Unexpected token', 403),
      expected: { status: 'error', error: 'HTTP 403' },
    },
    {
      case: 'a modelled server error',
      err: withStatus('InternalServerError', 'oops', 500),
      expected: { status: 'error', error: 'HTTP 500 InternalServerError' },
    },
    {
      case: 'EC2 with no error name',
      err: withStatus('Unknown', 'Unknown', 503),
      expected: { status: 'error', error: 'HTTP 503' },
    },
    {
      case: 'throttling after the retries',
      err: withStatus('ThrottlingException', 'Rate exceeded', 400),
      expected: { status: 'error', error: 'ThrottlingException' },
    },
    {
      case: 'connection refused',
      err: nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443'),
      expected: { status: 'error', error: 'ECONNREFUSED' },
    },
    {
      case: 'connection refused, wrapped by the SDK without its code',
      err: new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:443'),
      expected: { status: 'error', error: 'ECONNREFUSED' },
    },
    {
      case: 'the request timeout',
      err: nodeError(
        'ETIMEDOUT',
        'a request has exceeded the configured 5000 ms requestTimeout.',
        'TimeoutError',
      ),
      expected: { status: 'error', error: 'timed out after 5 s' },
    },
    {
      case: 'the connection timeout',
      err: Object.assign(
        new Error('did not establish a connection within the configured timeout of 3000 ms.'),
        {
          name: 'TimeoutError',
        },
      ),
      expected: { status: 'error', error: 'timed out after 3 s' },
    },
    {
      case: 'a reset connection, which the SDK names TimeoutError',
      err: nodeError('ECONNRESET', 'socket hang up', 'TimeoutError'),
      expected: { status: 'error', error: 'ECONNRESET' },
    },
  ])('$case', ({ err, expected }) => {
    expect(describeFailure(err)).toMatchObject(expected);
  });

  it('only timeouts and unreachable endpoints open the circuit breaker', () => {
    expect(isUnreachable(nodeError('ECONNREFUSED', 'x'))).toBe(true);
    expect(isUnreachable(nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND ssm.example'))).toBe(true);
    expect(isUnreachable(Object.assign(new Error('3000 ms'), { name: 'TimeoutError' }))).toBe(true);
    expect(isUnreachable(nodeError('ECONNRESET', 'socket hang up', 'TimeoutError'))).toBe(false);
    expect(isUnreachable(withStatus('InternalError', 'x', 500))).toBe(false);
    expect(isUnreachable(withStatus('AccessDenied', 'x', 403))).toBe(false);
  });
});

describe("the SDK's retry strategy never retries a denial or a timeout", () => {
  const denial = () =>
    Object.assign(new Error('no'), {
      name: 'AccessDeniedException',
      // What the SDK sets after correcting its clock skew; it then classifies any error as transient.
      $metadata: { httpStatusCode: 400, clockSkewCorrected: true },
    });
  const timeout = () => Object.assign(new Error('20000 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

  it.each([
    { case: 'denial', err: denial(), retried: false },
    { case: 'timeout', err: timeout(), retried: false },
    { case: 'abort', err: Object.assign(new Error('aborted'), { name: 'AbortError' }), retried: false },
    { case: 'throttle', err: throttle(), retried: true },
    {
      case: 'HTTP 500',
      err: Object.assign(new Error('x'), { $metadata: { httpStatusCode: 500 } }),
      retried: true,
    },
  ])('$case', async ({ err, retried }) => {
    expect(sdkMayRetry(err)).toBe(retried);
    const refreshed: unknown[] = [];
    const strategy = new AuditRetryStrategy({
      mode: 'adaptive',
      acquireInitialRetryToken: async () => 'token',
      refreshRetryTokenForRetry: async (_token, info) => {
        refreshed.push(info.error);
        return 'next';
      },
      recordSuccess: () => undefined,
    });
    const outcome = strategy.refreshRetryTokenForRetry('token', { error: err, errorType: 'TRANSIENT' });
    if (retried) await expect(outcome).resolves.toBe('next');
    else await expect(outcome).rejects.toThrow();
    expect(refreshed).toHaveLength(retried ? 1 : 0);
  });
});
