import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The document client the store uses: plain JS values in and out, undefined attributes dropped. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** A DynamoDB client with the standard resolution (region, credentials) and an optional endpoint (local). */
export function dynamoClient(
  options: {
    region?: string;
    endpoint?: string;
    profile?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 6,
    retryMode: 'adaptive',
  });
}
