import { errorName, isDenied, isThrottled, mapLimit, withBackoff } from '../../shared/collect/faults';

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
