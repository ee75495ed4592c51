import type { FindingsStore } from '../../shared/store/findings-store';
import { UsageError } from '../../shared/errors';
import { REGION_NAME } from '../../shared/snapshot/schema';
import { OptionValueError, openTable, type TableOptions } from './findings-command';

/**
 * One account-region of the findings table as the source of a command that can also read a snapshot or
 * a live scan (`report --html`, `plan`): which source the options chose, and the table opened, scoped
 * and closed around the reading.
 */

export interface SourceOptions extends TableOptions {
  snapshot?: string;
  /** `--scope ACCOUNT/REGION` of the table. */
  scope?: string;
}

export const usesTable = (o: TableOptions) =>
  o.table !== undefined || o.local !== undefined || o.endpointUrl !== undefined;

/** One source at a time: `--snapshot`, a live scan (`--region`/`--profile`) or the table. */
export function checkSources(options: SourceOptions, snapshotUse: string): void {
  const table = usesTable(options);
  if (options.snapshot && (table || options.region || options.profile))
    throw new UsageError(
      `--snapshot ${snapshotUse}; --region/--profile (live scan) and --table/--local/--endpoint-url (findings table) are other sources`,
    );
  if (options.scope && !table)
    throw new UsageError(
      '--scope chooses an account-region of the findings table: add --table, --local or --endpoint-url',
    );
}

export function parseScope(value: string): string {
  const [account = '', region = ''] = value.split('/');
  if (!/^\d{12}$/.test(account) || !REGION_NAME.test(region) || value.split('/').length !== 2)
    throw new OptionValueError('--scope', value, 'expected ACCOUNT/REGION, e.g. 123456789012/eu-west-1');
  return value;
}

/** The account-region of the table a command reads: `--scope`, else the only one the table holds. */
async function tableScope(
  store: FindingsStore,
  tableName: string,
  scope: string | undefined,
): Promise<{ accountId: string; region: string }> {
  if (scope) {
    const [accountId = '', region = ''] = scope.split('/');
    return { accountId, region };
  }
  const scopes = await store.scopes();
  if (scopes.length !== 1)
    throw Object.assign(
      new UsageError(
        scopes.length === 0
          ? `the findings table ${tableName} holds no audit yet`
          : `the findings table holds ${scopes.length} account-regions: choose one with --scope`,
      ),
      {
        hint:
          scopes.length === 0
            ? 'record an audit first (the deployed scheduled audit, or `npm run demo` for --local)'
            : `e.g. --scope ${scopes[0]!.accountId}/${scopes[0]!.region}`,
      },
    );
  return { accountId: scopes[0]!.accountId, region: scopes[0]!.region };
}

/**
 * Opens the table, finds the account-region, reads it, closes the table. A table failure (missing table,
 * exhausted retries) becomes a one-line usage error. The store module loads the AWS SDK: it is required
 * only here, when the table is read (see cli.ts).
 */
export async function readTableScope<T>(
  options: SourceOptions,
  read: (store: FindingsStore, scope: { accountId: string; region: string; tableName: string }) => Promise<T>,
): Promise<T> {
  const { FindingsStore, FindingsStoreError } =
    require('../../shared/store/findings-store') as typeof import('../../shared/store/findings-store');
  const opened = await openTable(options);
  try {
    const store = new FindingsStore({ client: opened.doc, tableName: opened.tableName });
    const scope = await tableScope(store, opened.tableName, options.scope);
    return await read(store, { ...scope, tableName: opened.tableName });
  } catch (err) {
    if (err instanceof FindingsStoreError) throw new UsageError(err.message, { cause: err });
    throw err;
  } finally {
    await opened.close();
  }
}
