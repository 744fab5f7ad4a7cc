/**
 * A LabHost for adapter tests: validates input with the real contract (parseCallInput), answers
 * a few calls with fixed data, fails others with the named errors the real host throws, and lets
 * the test emit events. Records what it was asked.
 */
import { isCallName, parseCallInput, type EventName } from '../../src/shared/contract';
import { LabError } from '../../src/shared/errors';
import type { HostEventListener, LabHost } from '../../src/main/core/host';

export class FakeHost implements LabHost {
  invoked: Array<{ name: string; input: unknown }> = [];
  listeners = new Set<HostEventListener>();
  closed = 0;
  /** Test-controlled file resolution (protocol tests replace it). */
  resolve: (path: string) => Promise<string> = async (path) => path;

  async invoke(name: string, rawInput: unknown): Promise<unknown> {
    if (!isCallName(name)) throw new LabError(`unknown call ${name}`, 'ValidationError');
    const input = parseCallInput(name, rawInput);
    this.invoked.push({ name, input });
    switch (name) {
      case 'app:info':
        return { name: 'MIAD Lab', version: '0.1.0', door: 'electron', workspace: null };
      case 'workspaces:open':
        throw new LabError(`no workspace at ${(input as { dir: string }).dir}`, 'NotFoundError');
      case 'datasets:list':
        throw new TypeError('boom: a bug in the core');
      default:
        return { name };
    }
  }

  onEvent(listener: HostEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: EventName, payload: unknown): void {
    for (const listener of this.listeners) listener(event, payload);
  }

  resolveAllowedFile(requestedPath: string): Promise<string> {
    return this.resolve(requestedPath);
  }

  async close(): Promise<void> {
    this.closed += 1;
  }
}
