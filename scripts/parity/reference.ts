/**
 * Runs the PyTorch reference (scripts/parity/backbone.py) from TypeScript, for the parity tests
 * and bench/features.ts. Uses Debian's /usr/bin/python3, where scripts/install-torch.sh puts
 * python3-torch; when torch is missing it throws a message that says to run that script.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const BACKBONE_SCRIPT = fileURLToPath(new URL('./backbone.py', import.meta.url));
export const INSTALL_HINT = 'PyTorch is not installed for /usr/bin/python3: run scripts/install-torch.sh (it installs Debian python3-torch and python3-torchvision)';

export function runPython(args: string[], timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'ENOENT') reject(new Error(`${PYTHON} not found: ${INSTALL_HINT}`));
        else if (code === 3) reject(new Error(INSTALL_HINT));
        else reject(new Error(`${PYTHON} ${args.join(' ')} failed (${String(code)}): ${stderr || error.message}`));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** Resolves when torch and torchvision import; rejects with INSTALL_HINT otherwise. */
export async function assertTorch(): Promise<string> {
  try {
    const { stdout } = await runPython(['-c', 'import torch, torchvision; print(torch.__version__)'], 60_000);
    return stdout.trim();
  } catch {
    throw new Error(INSTALL_HINT);
  }
}
