/** Entry point of the `miad-lab` command. */
import { runCli } from './main';

const io = {
  out: (text: string) => process.stdout.write(text + '\n'),
  err: (text: string) => process.stderr.write(text + '\n'),
};

const code = await runCli(process.argv.slice(2), io);
if (code !== 0 || !(globalThis as { __miadKeepAlive?: boolean }).__miadKeepAlive) {
  process.exitCode = code;
}
