import { DEFAULT_DEADLINE_MS } from '../../shared/collect/context';
import { RECORDING_RESERVE_MS, collectionDeadline } from '../../functions/lib/audit-target';

/** Inside Lambda the collection stops in time for the audit to be stored before the invocation's timeout. */
describe('collectionDeadline', () => {
  it.each([
    {
      case: 'no Lambda context (CLI, tests): the collector default',
      remaining: undefined,
      expected: undefined,
    },
    {
      case: 'a 15-minute invocation: the collector default (10 min)',
      remaining: 900_000,
      expected: DEFAULT_DEADLINE_MS,
    },
    {
      case: 'a 5-minute invocation: what is left less the recording reserve',
      remaining: 300_000,
      expected: 300_000 - RECORDING_RESERVE_MS,
    },
    { case: 'almost out of time: still 10 s to try', remaining: 20_000, expected: 10_000 },
  ])('$case', ({ remaining, expected }) => {
    expect(collectionDeadline(remaining === undefined ? undefined : () => remaining)).toBe(expected);
  });
});
