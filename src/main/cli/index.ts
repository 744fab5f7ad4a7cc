/** Entry point of the `miad-lab` command. */
import { runCli } from './main';

const io = {
  out: (text: string) => process.stdout.write(text + '\n'),
  err: (text: string) => process.stderr.write(text + '\n'),
};

// exitCode, not exit(): a verb that keeps serving (serve) holds the process open by itself.
process.exitCode = await runCli(process.argv.slice(2), io);
