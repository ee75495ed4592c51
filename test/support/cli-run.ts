import { main } from '../../scripts/ssm-audit/cli';

/** Runs `ssm-audit <command> ...args` in process, not on a terminal: the exit code and both streams. */
export async function runCli(command: string, args: readonly string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', command, ...args], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    isTTY: false,
  });
  return { code, out, err };
}
