import { CollectionError } from '../errors';
import { isDenied, isTimeout } from './faults';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The SDK v3 clients the collectors use. Credentials, region and endpoints resolve the standard way
 * (`--profile`/AWS_PROFILE, environment, shared config and credentials files, SSO, container and
 * instance roles; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> for custom endpoints) because we
 * pass nothing the SDK would otherwise resolve itself.
 */
export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  iam: IAMClient;
  sts: STSClient;
}

export interface ClientOptions {
  /** Region to audit; default: the SDK's resolution (AWS_REGION, then the profile's region). */
  region?: string;
  /** Named profile from the shared config files; default: AWS_PROFILE or `default`. */
  profile?: string;
  /** Time to the response's headers, and longest silence while reading a body; default 20 s. */
  requestTimeoutMs?: number;
  /** Time to establish the TCP/TLS connection; default 3 s. */
  connectionTimeoutMs?: number;
  /** Credentials other than the standard chain's: a member account's assumed role (aws/assume.ts). */
  credentials?: AwsCredentialIdentityProvider;
}

/**
 * Network timeouts. An endpoint that accepts connections and never answers (a black hole: a firewall,
 * a dead proxy, a VPC endpoint without a route) fails a request after `requestMs`; one that does not
 * accept connections fails after `connectionMs`. A timed-out request is not retried by the SDK, and
 * the collection's circuit breaker sends no further request to that service (context.ts), so such an
 * endpoint costs one request timeout per service and audit.
 */
export const TIMEOUTS = { connectionMs: 3_000, requestMs: 20_000 } as const;

/**
 * The SDK's own retry strategy: adaptive mode adds client-side rate limiting on top of exponential
 * backoff, which is what a collection of thousands of pages against EC2's and IAM's request-rate
 * limits needs. Our bounded wrapper (faults.ts withBackoff) retries a page again after the SDK gives up.
 */
export const SDK_RETRY = { maxAttempts: 6, retryMode: 'adaptive' } as const;

/**
 * Errors the SDK must not retry although its classification would:
 * - a denial: asking again cannot change the answer. The SDK retries any error after correcting its
 *   clock skew (a local clock more than 5 minutes off the server's Date header), denials included —
 *   6 attempts per denied call;
 * - a timeout: the same endpoint would make the caller wait the full timeout again (the collection's
 *   circuit breaker takes over);
 * - an abort: the collection's deadline has passed.
 */
export function sdkMayRetry(error: unknown): boolean {
  if (isDenied(error) || isTimeout(error)) return false;
  return !(error instanceof Error && error.name === 'AbortError');
}

/** What the SDK tells its retry strategy about a failed attempt (RetryErrorInfo). */
interface RetryErrorInfoLike {
  error?: unknown;
  errorType?: string;
}

/** The shape of the SDK's retry strategy (RetryStrategyV2) this module relies on. */
interface RetryStrategyLike {
  mode?: string;
  acquireInitialRetryToken(scope: string): Promise<unknown>;
  refreshRetryTokenForRetry(token: unknown, errorInfo: RetryErrorInfoLike): Promise<unknown>;
  recordSuccess(token: unknown): void;
}

const isRetryStrategyLike = (value: unknown): value is RetryStrategyLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as RetryStrategyLike).refreshRetryTokenForRetry === 'function' &&
  typeof (value as RetryStrategyLike).acquireInitialRetryToken === 'function';

/** The SDK's configured strategy (adaptive, 6 attempts), refusing the retries sdkMayRetry forbids. */
export class AuditRetryStrategy implements RetryStrategyLike {
  readonly mode: string | undefined;
  constructor(readonly inner: RetryStrategyLike) {
    this.mode = inner.mode;
  }
  acquireInitialRetryToken(scope: string): Promise<unknown> {
    return this.inner.acquireInitialRetryToken(scope);
  }
  refreshRetryTokenForRetry(token: unknown, errorInfo: RetryErrorInfoLike): Promise<unknown> {
    // Rejecting here makes the SDK throw the request's own error, as when its attempts are used up.
    if (!sdkMayRetry(errorInfo.error)) return Promise.reject(new Error('not retried'));
    return this.inner.refreshRetryTokenForRetry(token, errorInfo);
  }
  recordSuccess(token: unknown): void {
    this.inner.recordSuccess(token);
  }
}

type RetryConfigurable = { config: { retryStrategy: () => Promise<unknown> } };

/**
 * Wraps the strategy the SDK resolved from SDK_RETRY (and AWS_RETRY_MODE / AWS_MAX_ATTEMPTS), keeping
 * its rate limiter and token bucket. The SDK reads `config.retryStrategy()` for every request.
 */
function refuseUselessRetries<C extends RetryConfigurable>(client: C): C {
  const resolve = client.config.retryStrategy.bind(client.config);
  let wrapped: Promise<unknown> | undefined;
  client.config.retryStrategy = () =>
    (wrapped ??= resolve().then((strategy) =>
      isRetryStrategyLike(strategy) ? new AuditRetryStrategy(strategy) : strategy,
    ));
  return client;
}

export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const requestTimeout = options.requestTimeoutMs ?? TIMEOUTS.requestMs;
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...SDK_RETRY,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? TIMEOUTS.connectionMs,
      requestTimeout,
      // A response whose headers came but whose body stalls.
      socketTimeout: requestTimeout,
      // Without throwOnRequestTimeout the SDK only logs a warning and waits on a hung connection forever.
      throwOnRequestTimeout: true,
    },
  };
  return {
    ec2: refuseUselessRetries(new EC2Client(config)),
    ssm: refuseUselessRetries(new SSMClient(config)),
    iam: refuseUselessRetries(new IAMClient(config)),
    sts: refuseUselessRetries(new STSClient(config)),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  for (const client of Object.values(clients)) client.destroy();
}

/** What the SDK's standard chains resolve for a client, without making a call. */
export interface AwsSetup {
  region?: string;
  /** Why no credentials were found (undefined when they were). */
  credentialsError?: Error;
}

type Probeable = { config: { region(): Promise<string>; credentials(): Promise<unknown> } };

export async function probeAwsSetup(client: Probeable): Promise<AwsSetup> {
  const region = await client.config.region().catch(() => undefined);
  const credentialsError = await client.config.credentials().then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return { region: region || undefined, credentialsError };
}

export const NO_REGION =
  'no AWS region: pass --region, set AWS_REGION, or set a region in your AWS config profile';

export function noCredentialsMessage(profile: string | undefined, error: Error): string {
  return (
    `no AWS credentials found${profile ? ` for profile ${profile}` : ''} (${error.message.split('\n')[0]}). ` +
    'Configure credentials the standard way: --profile NAME or AWS_PROFILE with a shared config/credentials file, ' +
    '`aws sso login`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role of the machine you run on.'
  );
}

/**
 * Resolves the region and checks that credentials can be found, before any call is made, so that a
 * machine without credentials gets one clear error instead of one ERROR finding per API call.
 */
export async function resolveAwsTarget(clients: AwsClients, profile?: string): Promise<{ region: string }> {
  const { region, credentialsError } = await probeAwsSetup(clients.sts);
  if (!region) throw new CollectionError(NO_REGION);
  if (credentialsError)
    throw new CollectionError(noCredentialsMessage(profile, credentialsError), { cause: credentialsError });
  return { region };
}
