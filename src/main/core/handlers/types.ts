/**
 * How a domain plugs its calls into the host: a function from the host's context to the handlers
 * of the calls whose names start with its prefixes. lab-host.ts spreads them into one map whose
 * type requires every call of the contract, so a call without a handler does not compile.
 */
import type { CallName, CallParsedInput, CallResult, EventName, EventPayload } from '../../../shared/contract';
import type { Lab } from '../lab';

export type Handler<N extends CallName> = (input: CallParsedInput<N>) => Promise<CallResult<N>>;

export type Handlers = { [N in CallName]: Handler<N> };

/** The handlers of every call named `<prefix>:...` for the given prefixes. */
export type DomainHandlers<P extends string> = {
  [N in CallName as N extends `${P}:${string}` ? N : never]: Handler<N>;
};

export interface HandlerContext {
  /** The open workspace's lab; throws a ConflictError naming the problem when none is open. */
  requireLab(): Lab;
  /** The open workspace's lab, or null: for calls that also work with none open (`import:scan`). */
  currentLab(): Lab | null;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Listens to every event the host emits (a job's, a handler's); returns the unsubscribe function. */
  listen(listener: (event: EventName, payload: unknown) => void): () => void;
  /**
   * Runs `work` on the open workspace as something closing it must end first: closing (or
   * switching) the workspace aborts `signal` with the reason and waits for `work` to settle, then
   * names `what` among what it cancelled.
   */
  track<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}
