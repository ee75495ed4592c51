import type { Context } from 'aws-lambda';
import { handleScheduled } from './lib/handlers';
import { runtime } from './lib/runtime';

/** EventBridge schedule → a full audit of every configured region (AUDIT_REGIONS). */
export const handler = async (event: unknown, context: Context) => {
  const rt = runtime();
  rt.logger.addContext(context);
  return handleScheduled(event, rt, context);
};
