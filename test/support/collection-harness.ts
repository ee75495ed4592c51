import { createAwsClients, destroyAwsClients, type AwsClients } from '../../shared/aws/clients';
import { collectSnapshot, type CollectOptions } from '../../shared/collect/collect';
import { EVALUATOR_FETCH_PLAN } from '../../shared/engine/fetch-plan';
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { fakeAwsFromSnapshot, type FakeAws, type FakeAwsOptions } from './fake-aws';

/** Backoff without waiting, so throttling paths run instantly. */
export const noSleep = { sleep: async () => undefined, random: () => 0 };

/**
 * Per-test SDK clients and a fake account served from a snapshot; both are torn down after each test.
 * `collect` runs the real collector against it, as of the snapshot's own time.
 */
export function collectionHarness() {
  let clients: AwsClients | undefined;
  let fake: FakeAws | undefined;
  beforeEach(() => {
    clients = createAwsClients({ region: 'eu-west-1' });
  });
  afterEach(() => {
    fake?.restore();
    fake = undefined;
    if (clients) destroyAwsClients(clients);
  });
  return {
    get clients(): AwsClients {
      if (!clients) throw new Error('clients exist only inside a test');
      return clients;
    },
    /** Serves `snapshot` as the AWS account (replacing any earlier fake of this test). */
    serve(snapshot: SnapshotInput, options?: FakeAwsOptions): FakeAws {
      fake?.restore();
      fake = fakeAwsFromSnapshot(snapshot, options);
      return fake;
    },
    collect(snapshot: SnapshotInput, options: Partial<CollectOptions> = {}) {
      return collectSnapshot(this.clients, {
        region: snapshot.region,
        now: () => new Date(snapshot.collectedAt),
        backoff: noSleep,
        plan: EVALUATOR_FETCH_PLAN,
        ...options,
      });
    },
  };
}
