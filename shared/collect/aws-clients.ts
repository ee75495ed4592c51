import { CollectionError } from '../errors';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

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
  /** Per-request timeout; default 30 s. A request that hangs fails (and is retried) instead of stalling the run. */
  requestTimeoutMs?: number;
}

/**
 * The SDK's own retry strategy: adaptive mode adds client-side rate limiting on top of exponential
 * backoff, which is what a collection of thousands of pages against EC2's and IAM's request-rate
 * limits needs. Our bounded wrapper (faults.ts withBackoff) retries a page again after the SDK gives up.
 */
export const SDK_RETRY = { maxAttempts: 6, retryMode: 'adaptive' } as const;

export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...SDK_RETRY,
    // Without throwOnRequestTimeout the SDK only logs a warning and waits on a hung connection forever.
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true,
    },
  };
  return {
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    iam: new IAMClient(config),
    sts: new STSClient(config),
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
