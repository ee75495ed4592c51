import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { CallRecord } from '../snapshot/schema';
import {
  CallNotSentError,
  DEADLINE_EXCEEDED,
  DeadlineExceededError,
  describeFailure,
  errorName,
  isDenied,
  isUnreachable,
  withBackoff,
  type BackoffOptions,
  type CallFailure,
} from '../aws/faults';

/** What happened to one logical call: its value, "the resource does not exist", or a recorded failure. */
export type CallResult<T> = { status: 'ok'; value: T } | { status: 'not-found' } | { status: 'failed' };

export interface ProgressEvent {
  phase: string;
  /** API requests sent so far (including retries). */
  calls: number;
}

/** What every request of a collection is sent with: `client.send(command, options)`. */
export interface SendOptions {
  /** Aborted when the collection's deadline passes, so that no request outlives the budget. */
  abortSignal: AbortSignal;
}

/**
 * The default time budget of one collection. A whole-region audit of a large fleet legitimately takes
 * minutes (100,000 instances are ~1,700 requests, many of them sequential pages), so the budget is a
 * backstop below the scheduled Lambda's 15-minute timeout; what bounds an unresponsive endpoint is
 * the request timeout and the per-service circuit breaker (see CollectionContext).
 */
export const DEFAULT_DEADLINE_MS = 600_000;

export interface CollectionContextOptions {
  backoff?: BackoffOptions;
  /** IAM calls in flight at once; IAM's request rate is low and shared by the whole account. Default 4. */
  iamConcurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Time budget of the whole collection in ms (default DEFAULT_DEADLINE_MS). Once it has passed, no
   * further request is sent and requests in flight are aborted; every call left is recorded as failed
   * with `deadline exceeded`, and the audit reports ERROR for what those calls would have shown.
   */
  deadlineMs?: number;
  /** Monotonic clock in ms that decides whether the deadline has passed; default performance.now. */
  clock?: () => number;
}

/** Error names that mean "this IAM entity / service setting does not exist": a fact to report, not a failed call. */
const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ServiceSettingNotFound']);

/**
 * The bookkeeping of one collection run: every request is counted per action (the call budget),
 * throttles are retried with bounded backoff, and any call that still fails is recorded under its IAM
 * action name in `failures` (the snapshot's `calls`) instead of being thrown. No failing call aborts
 * the others.
 *
 * Three rules keep an unresponsive endpoint from stalling an audit:
 * - until a service has answered once, its first call goes alone (whenResponsive);
 * - a circuit breaker per service: once a call to a service has found its endpoint unreachable (timed
 *   out, connection refused, host not found), later calls to that service in this collection are not
 *   sent and are recorded as `not sent: the <service> endpoint ...`, instead of each waiting for its
 *   own timeout. With the SDK not retrying timeouts (aws-clients.ts), a black-holed service costs one
 *   request timeout per audit;
 * - a deadline for the whole collection (`deadlineMs`), after which nothing more is sent and requests
 *   in flight are aborted.
 */
export class CollectionContext {
  readonly counts = new Map<string, number>();
  readonly failures: Record<string, CallRecord> = {};
  private inFlightIam = 0;
  private readonly iamQueue: (() => void)[] = [];
  private readonly iamConcurrency: number;
  private phase = 'starting';
  /** Service (`ec2`, `ssm`, ...) → the failure that showed its endpoint unreachable. */
  private readonly unreachable = new Map<string, CallFailure>();
  /** Services that have answered in this collection (with data or with any AWS error). */
  private readonly responsive = new Set<string>();
  /** Service → the settling of its first call, while no call to it has been answered yet. */
  private readonly probes = new Map<string, Promise<void>>();
  private readonly clock: () => number;
  private readonly deadlineMs: number;
  private readonly deadlineAt: number;
  private readonly deadline = new AbortController();
  private readonly deadlineTimer: NodeJS.Timeout;

  constructor(private readonly options: CollectionContextOptions = {}) {
    this.iamConcurrency = Math.max(1, options.iamConcurrency ?? 4);
    this.clock = options.clock ?? (() => performance.now());
    this.deadlineMs = Math.max(0, options.deadlineMs ?? DEFAULT_DEADLINE_MS);
    this.deadlineAt = this.clock() + this.deadlineMs;
    // Every request in flight listens on this one signal (the SDK adds a listener per request).
    setMaxListeners(0, this.deadline.signal);
    this.deadlineTimer = setTimeout(() => this.expire(), this.deadlineMs);
    this.deadlineTimer.unref();
  }

  get totalCalls(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  /** Has the collection's time budget run out? */
  get expired(): boolean {
    if (!this.deadline.signal.aborted && this.clock() >= this.deadlineAt) this.expire();
    return this.deadline.signal.aborted;
  }

  /** Stops the deadline timer; call when the collection is over. */
  close(): void {
    clearTimeout(this.deadlineTimer);
  }

  setPhase(phase: string): void {
    this.phase = phase;
    this.options.onProgress?.({ phase, calls: this.totalCalls });
  }

  private expire(): void {
    if (!this.deadline.signal.aborted) this.deadline.abort(new DeadlineExceededError(this.deadlineMs));
  }

  private count(action: string): void {
    this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
    this.options.onProgress?.({ phase: this.phase, calls: this.totalCalls });
  }

  private record(action: string, failure: CallFailure): void {
    // The first failure of an action is the one a user needs to fix; later ones repeat it.
    if (this.failures[action]) return;
    this.failures[action] = failure;
  }

  private deadlineFailure(): CallFailure {
    return {
      status: 'error',
      error: DEADLINE_EXCEEDED,
      message: new DeadlineExceededError(this.deadlineMs).message,
    };
  }

  /** Throws CallNotSentError when this request must not be sent (deadline passed, endpoint unreachable). */
  private checkSendable(service: string): void {
    if (this.expired) throw new CallNotSentError(this.deadlineFailure());
    const down = this.unreachable.get(service);
    if (down) {
      throw new CallNotSentError({
        status: 'error',
        error: `not sent: the ${service} endpoint ${down.error.startsWith('timed out') ? down.error : `failed with ${down.error}`}`,
        message: `an earlier ${service} call in this collection found the endpoint unreachable; later ${service} calls are not sent`,
      });
    }
  }

  /** Why a call failed, as the snapshot records it. */
  private failureOf(err: unknown): CallFailure {
    if (err instanceof CallNotSentError) return err.failure;
    // Whatever a request aborted by the deadline throws (AbortError, or a timeout at the same moment).
    if (this.deadline.signal.aborted && !isDenied(err)) return this.deadlineFailure();
    return describeFailure(err);
  }

  /** One request (one page), retried on throttling; failures are recorded, never thrown. */
  async call<T>(action: string, send: (options: SendOptions) => Promise<T>): Promise<CallResult<T>> {
    const service = action.split(':')[0] ?? action;
    const options: SendOptions = { abortSignal: this.deadline.signal };
    const run = () =>
      withBackoff(() => {
        this.checkSendable(service);
        this.count(action);
        return send(options);
      }, this.options.backoff);
    const limited = () => (action.startsWith('iam:') ? this.limitIam(run) : run());
    try {
      const value = await untilAborted(this.whenResponsive(service, limited), this.deadline.signal);
      return { status: 'ok', value };
    } catch (err) {
      if (NOT_FOUND.has(errorName(err))) return { status: 'not-found' };
      this.noteUnreachable(service, err);
      this.record(action, this.failureOf(err));
      return { status: 'failed' };
    }
  }

  /** Opens the service's circuit breaker when `err` shows its endpoint unreachable. */
  private noteUnreachable(service: string, err: unknown): void {
    if (err instanceof CallNotSentError || this.deadline.signal.aborted || !isUnreachable(err)) return;
    if (!this.unreachable.has(service)) this.unreachable.set(service, describeFailure(err));
  }

  /**
   * Until a service has answered once in this collection, its first call goes alone and the others
   * wait for its outcome: if the endpoint is a black hole, only that one request waits for the
   * timeout, and the rest are not sent (the breaker is open by then). Once the service has answered
   * anything (data, a denial, a 500), calls go out concurrently. Costs one round trip per service.
   */
  private async whenResponsive<T>(service: string, fn: () => Promise<T>): Promise<T> {
    for (let probe = this.probes.get(service); probe && !this.responsive.has(service);) {
      await probe;
      probe = this.probes.get(service);
    }
    if (this.responsive.has(service) || this.unreachable.has(service) || this.expired) return fn();
    let settled!: () => void;
    this.probes.set(service, new Promise<void>((resolve) => (settled = resolve)));
    try {
      const value = await fn();
      this.responsive.add(service);
      return value;
    } catch (err) {
      // Decided before the waiters resume, so that they see an open breaker rather than probe again.
      this.noteUnreachable(service, err);
      if (!(err instanceof CallNotSentError) && !this.deadline.signal.aborted && !isUnreachable(err))
        this.responsive.add(service);
      throw err;
    } finally {
      this.probes.delete(service);
      settled();
    }
  }

  /**
   * Every page of a paginated call. Returns undefined when any page fails: a half-read list is never
   * used (the section is then unavailable and the rules report ERROR naming the action).
   */
  async pages<P, I>(
    action: string,
    send: (token: string | undefined, options: SendOptions) => Promise<P>,
    items: (page: P) => readonly I[] | undefined,
    next: (page: P) => string | undefined,
  ): Promise<I[] | undefined> {
    const out: I[] = [];
    let token: string | undefined;
    do {
      const result = await this.call(action, (options) => send(token, options));
      if (result.status !== 'ok') return undefined;
      for (const item of items(result.value) ?? []) out.push(item);
      token = next(result.value) || undefined;
    } while (token);
    return out;
  }

  /** A semaphore; a finishing call hands its slot straight to the next waiter, so the limit is never exceeded. */
  private async limitIam<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlightIam >= this.iamConcurrency) {
      await new Promise<void>((resolve) => this.iamQueue.push(resolve));
    } else {
      this.inFlightIam++;
    }
    try {
      return await fn();
    } finally {
      const next = this.iamQueue.shift();
      if (next) next();
      else this.inFlightIam--;
    }
  }
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it is aborted: the deadline
 * holds even for a request (or a test double) that ignores its abort signal, or a call still waiting
 * for a backoff delay or an IAM slot.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
