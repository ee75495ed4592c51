import type { CallRecord } from '../snapshot/schema';
import { errorName, isDenied, withBackoff, type BackoffOptions } from './faults';

/** What happened to one logical call: its value, "the resource does not exist", or a recorded failure. */
export type CallResult<T> = { status: 'ok'; value: T } | { status: 'not-found' } | { status: 'failed' };

export interface ProgressEvent {
  phase: string;
  /** API requests sent so far (including retries). */
  calls: number;
}

export interface CollectionContextOptions {
  backoff?: BackoffOptions;
  /** IAM calls in flight at once; IAM's request rate is low and shared by the whole account. Default 4. */
  iamConcurrency?: number;
  onProgress?: (event: ProgressEvent) => void;
}

/** Error names that mean "this IAM entity / service setting does not exist": a fact to report, not a failed call. */
const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ServiceSettingNotFound']);

/**
 * The bookkeeping of one collection run: every request is counted per action (the call budget),
 * throttles are retried with bounded backoff, and any call that still fails is recorded under its IAM
 * action name in `failures` (the snapshot's `calls`) instead of being thrown. No failing call aborts
 * the others.
 */
export class CollectionContext {
  readonly counts = new Map<string, number>();
  readonly failures: Record<string, CallRecord> = {};
  private inFlightIam = 0;
  private readonly iamQueue: (() => void)[] = [];
  private readonly iamConcurrency: number;
  private phase = 'starting';

  constructor(private readonly options: CollectionContextOptions = {}) {
    this.iamConcurrency = Math.max(1, options.iamConcurrency ?? 4);
  }

  get totalCalls(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  setPhase(phase: string): void {
    this.phase = phase;
    this.options.onProgress?.({ phase, calls: this.totalCalls });
  }

  private count(action: string): void {
    this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
    this.options.onProgress?.({ phase: this.phase, calls: this.totalCalls });
  }

  private record(action: string, err: unknown): void {
    const name = errorName(err);
    // The first failure of an action is the one a user needs to fix; later ones repeat it.
    if (this.failures[action]) return;
    const message = err instanceof Error ? err.message : String(err);
    this.failures[action] = {
      status: isDenied(err) ? 'denied' : 'error',
      error: name,
      ...(message && message !== name ? { message: message.slice(0, 500) } : {}),
    };
  }

  /** One request (one page), retried on throttling; failures are recorded, never thrown. */
  async call<T>(action: string, send: () => Promise<T>): Promise<CallResult<T>> {
    const run = () =>
      withBackoff(() => {
        this.count(action);
        return send();
      }, this.options.backoff);
    try {
      const value = action.startsWith('iam:') ? await this.limitIam(run) : await run();
      return { status: 'ok', value };
    } catch (err) {
      if (NOT_FOUND.has(errorName(err))) return { status: 'not-found' };
      this.record(action, err);
      return { status: 'failed' };
    }
  }

  /**
   * Every page of a paginated call. Returns undefined when any page fails: a half-read list is never
   * used (the section is then unavailable and the rules report ERROR naming the action).
   */
  async pages<P, I>(
    action: string,
    send: (token: string | undefined) => Promise<P>,
    items: (page: P) => readonly I[] | undefined,
    next: (page: P) => string | undefined,
  ): Promise<I[] | undefined> {
    const out: I[] = [];
    let token: string | undefined;
    do {
      const result = await this.call(action, () => send(token));
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
