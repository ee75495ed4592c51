import type { Context, SQSEvent } from 'aws-lambda';
import { handleOrgJobs } from './lib/org';
import { runtime } from './lib/runtime';

/** SQS job queue → audit one account-region with the member role; failed jobs are retried, then dead-lettered. */
export const handler = async (event: SQSEvent, context: Context) => {
  const rt = runtime();
  rt.logger.addContext(context);
  return handleOrgJobs(event.Records ?? [], rt, () => context.getRemainingTimeInMillis());
};
