#!/usr/bin/env node
// The `ssm-audit` bin: runs the TypeScript CLI through tsx's require hook, so `npx ssm-audit`
// works right after `npm ci` with no build step.
require('tsx/cjs');
require('./cli.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
