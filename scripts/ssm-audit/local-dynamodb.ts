/**
 * A real DynamoDB API server in this process (dynalite, in memory, on 127.0.0.1): the embedded default
 * for `npm run demo`, and what the store tests run against. Nothing leaves the machine.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TABLE_NAME, ensureTable } from '../../shared/store/table';
import { documentClient } from '../../shared/aws/dynamodb';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  stop(): Promise<void>;
}

/** Where `npm run demo` keeps its findings table, for `ssm-audit findings --local` after it has ended. */
export const LOCAL_TABLE_DIR = path.join('.ssm-audit', 'local-table');

/**
 * Starts dynalite on an ephemeral port and creates the findings table from its one definition. With
 * `dir`, the data lives on disk there (LevelDB) and outlasts the process; otherwise in memory.
 */
export async function startLocalDynamo(
  tableName = DEFAULT_TABLE_NAME,
  options: { dir?: string } = {},
): Promise<LocalDynamo> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dir ? { path: options.dir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint,
    // dynalite checks that requests are signed, not by whom.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, tableName);
  return {
    endpoint,
    client,
    doc: documentClient(client),
    tableName,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
