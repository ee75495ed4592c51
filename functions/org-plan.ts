import type { Context } from 'aws-lambda';
import { planOrgRun } from './lib/org';
import { runtime } from './lib/runtime';

/** EventBridge schedule → one job per account and region of the Organization, on the SQS FIFO queue. */
export const handler = async (_event: unknown, context: Context) => {
  const rt = runtime();
  rt.logger.addContext(context);
  return planOrgRun(rt, context.awsRequestId);
};
