/**
 * How the collectors treat failing AWS calls: a denied call is recorded at once, never retried (the
 * rules then report ERROR naming the permission), a throttled call is retried with backoff, anything
 * else is recorded as a failure worded by what failed (HTTP status, network error, timeout). No failing
 * call aborts the collection.
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

type Inspectable = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { statusCode?: unknown };
};
const fields = (err: unknown): Inspectable => (err && typeof err === 'object' ? (err as Inspectable) : {});

/** Node's network error codes the SDK surfaces (connect ECONNREFUSED 127.0.0.1:443, ...). */
const NETWORK_CODES =
  /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/;

/**
 * The Node error code of a failed request. When the SDK wraps an error it does not recognise as an
 * Error (one from another realm), only the message keeps the code.
 */
function codeOf(err: unknown): string | undefined {
  const { code, message } = fields(err);
  if (typeof code === 'string') return code;
  return typeof message === 'string' ? NETWORK_CODES.exec(message)?.[1] : undefined;
}

/**
 * A request that got no answer in time: the SDK's connection, request and socket timeouts (name
 * TimeoutError) and the OS's ETIMEDOUT. The SDK also names a reset connection (ECONNRESET, EPIPE)
 * TimeoutError; that is a failure, not a timeout, so it is told by its code.
 */
export function isTimeout(err: unknown): boolean {
  const { name } = fields(err);
  const code = codeOf(err);
  if (code === 'ECONNRESET' || code === 'EPIPE') return false;
  return name === 'TimeoutError' || code === 'ETIMEDOUT';
}

/** Node network errors that mean "the endpoint cannot be reached at all" (refused, no such host, no route). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Failures that say the service's endpoint is not answering (a black hole, a refused connection, an
 * unresolvable name): asking the same endpoint again in the same audit would only wait again.
 */
export const isUnreachable = (err: unknown): boolean => isTimeout(err) || UNREACHABLE.has(codeOf(err) ?? '');

/** Error names that say nothing a user can act on: a body the SDK could not parse, or no name at all. */
const UNINFORMATIVE = new Set(['SyntaxError', 'TypeError', 'Unknown', 'UnknownError', 'Error']);

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/** The HTTP status of a failed AWS call, when a response was received. */
export function httpStatusOf(err: unknown): number | undefined {
  const { $metadata, $response } = fields(err);
  const status = $metadata?.httpStatusCode ?? $response?.statusCode;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

/** What a snapshot `calls` entry records about a call that did not succeed (DESIGN §2). */
export interface CallFailure {
  status: 'denied' | 'error';
  /** The denial's error name; for a failure, what failed: `HTTP 500`, `ECONNREFUSED`, `timed out after 20 s`. */
  error: string;
  message?: string;
}

/**
 * Classifies and words a failed call. A denial keeps AWS's error name (the rules then name the
 * permission to grant). Anything else is a failure, worded by what a user can check: the timeout, the
 * network error code, or the HTTP status when the SDK only reports that it could not parse the body
 * (an HTML 500 from a proxy surfaces as `SyntaxError`, which says nothing).
 */
export function describeFailure(err: unknown): CallFailure {
  const rawMessage = fields(err).message;
  const message = typeof rawMessage === 'string' ? rawMessage.slice(0, 500) : undefined;
  const name = errorName(err);
  const withMessage = (status: CallFailure['status'], error: string): CallFailure =>
    message && message !== error && message !== name ? { status, error, message } : { status, error };
  if (isDenied(err)) return withMessage('denied', name);
  if (isTimeout(err)) {
    const ms = typeof rawMessage === 'string' ? /(\d+) ?ms\b/.exec(rawMessage)?.[1] : undefined;
    return withMessage('error', ms ? `timed out after ${seconds(Number(ms))}` : 'timed out');
  }
  const code = codeOf(err);
  if (code && /^E[A-Z_]+$/.test(code)) return withMessage('error', code);
  const status = httpStatusOf(err);
  if (status !== undefined && (status >= 500 || UNINFORMATIVE.has(name)))
    return withMessage('error', UNINFORMATIVE.has(name) ? `HTTP ${status}` : `HTTP ${status} ${name}`);
  return withMessage('error', name);
}

/**
 * A call the collector did not send: the audit's deadline had passed, or an earlier call to the same
 * service found its endpoint unreachable. Recorded as a failed call like any other.
 */
export class CallNotSentError extends Error {
  override readonly name = 'CallNotSentError';
  constructor(readonly failure: CallFailure) {
    super(failure.message ?? failure.error);
  }
}

/** Why in-flight calls were aborted: the collection's time budget ran out. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(readonly budgetMs: number) {
    super(`the collection's ${seconds(budgetMs)} time budget ran out`);
  }
}

export const DEADLINE_EXCEEDED = 'deadline exceeded';

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
