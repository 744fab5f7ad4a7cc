/**
 * Runs the PyTorch reference of our trainable layers and optimisers (scripts/parity/nn.py) from
 * TypeScript, for tests/nn/parity.test.ts. Uses Debian's /usr/bin/python3 like reference.ts; when
 * torch is missing nn.py exits with status 3 and this rejects with reference.ts's INSTALL_HINT.
 */
import { fileURLToPath } from 'node:url';
import { runPython } from './reference';

export const NN_SCRIPT = fileURLToPath(new URL('./nn.py', import.meta.url));

/** Runs nn.py on `dir` (which holds spec.json and the inputs); its results land in `dir`/out. */
export async function runNnReference(dir: string, timeoutMs = 300_000): Promise<void> {
  await runPython([NN_SCRIPT, dir], timeoutMs);
}
