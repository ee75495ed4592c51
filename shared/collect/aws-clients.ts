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

/**
 * Resolves the region and checks that credentials can be found, before any call is made, so that a
 * machine without credentials gets one clear error instead of one ERROR finding per API call.
 */
export async function resolveAwsTarget(clients: AwsClients, profile?: string): Promise<{ region: string }> {
  let region: string | undefined;
  try {
    region = await clients.ec2.config.region();
  } catch {
    region = undefined;
  }
  if (!region) {
    throw new CollectionError(
      'no AWS region: pass --region, set AWS_REGION, or set a region in your AWS config profile',
    );
  }
  try {
    await clients.sts.config.credentials();
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CollectionError(
      `no AWS credentials found${profile ? ` for profile ${profile}` : ''} (${detail}). ` +
        'Configure credentials the standard way: --profile NAME or AWS_PROFILE with a shared config/credentials file, ' +
        '`aws sso login`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role of the machine you run on.',
      { cause: err },
    );
  }
  return { region };
}
