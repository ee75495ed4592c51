import type { Context } from 'aws-lambda';
import { handleEvent } from './lib/handlers';
import { runtime } from './lib/runtime';

/** EC2 state changes and CloudTrail API calls → an audit of the smallest scope the event can change. */
export const handler = async (event: unknown, context: Context) => {
  const rt = runtime();
  rt.logger.addContext(context);
  return handleEvent(event, rt, context);
};
