/**
 * How the collectors treat failing AWS calls: a denied call is recorded (the rules then report ERROR
 * naming the permission), a throttled call is retried with backoff, anything else is recorded as an
 * error. No failing call aborts the collection.
 */

/** Error names AWS uses for "you may not": EC2 says UnauthorizedOperation, IAM AccessDenied, SSM AccessDeniedException. */
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
]);
/** Throttling names across EC2 (RequestLimitExceeded), IAM (Throttling) and SSM (ThrottlingException). */
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const named = err as { name?: unknown; Code?: unknown; code?: unknown };
    for (const candidate of [named.name, named.Code, named.code]) {
      if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
    }
  }
  return 'UnknownError';
}

export const isDenied = (err: unknown) => DENIED.has(errorName(err));
export const isThrottled = (err: unknown) => THROTTLED.has(errorName(err));

export interface BackoffOptions {
  /** Retries after the first attempt. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Our own bounded retry on top of the SDK's retry strategy: the SDK already retries throttles a few
 * times per request; a paginated collection of thousands of pages needs a little more patience, but
 * never an unbounded loop. Full-jitter exponential backoff.
 */
export async function withBackoff<T>(fn: () => Promise<T>, options: BackoffOptions = {}): Promise<T> {
  const retries = options.retries ?? 4;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottled(err) || attempt >= retries) throw err;
      await sleep(Math.min(max, base * 2 ** attempt) * random());
    }
  }
}

/**
 * Runs tasks with at most `limit` in flight (IAM's API rate is low and shared account-wide). When one
 * task fails no further task starts, and the call settles only after the tasks in flight have: a failed
 * run never keeps writing behind its caller's back.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}
