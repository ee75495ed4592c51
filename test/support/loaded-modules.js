// Preloaded (node -r) into a spawned CLI by test/cli-bin.test.ts: when the process exits, writes the
// files of every CommonJS module it loaded, one a line, to $LOADED_MODULES_OUT.
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.LOADED_MODULES_OUT, `${Object.keys(require.cache).join('\n')}\n`);
});
