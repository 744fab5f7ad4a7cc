/**
 * The one contract between the UI (or a script) and the lab: every call with its input schema
 * and result type, every event with its payload. The Electron preload, the HTTP server and the
 * CLI are all built from this map, so a call added here exists behind every door.
 */
import { z } from 'zod';
import { annotateCalls, annotateEvents } from './calls/annotate';
import { appCalls, appEvents, demoOptionsSchema } from './calls/app';
import { datasetCalls, datasetEvents } from './calls/datasets';
import { importCalls, importEvents } from './calls/import';
import { libraryCalls, libraryEvents } from './calls/library';
import { runCalls, runEvents } from './calls/runs';
import { engineCalls, engineEvents } from './calls/engine';
import { compareCalls, compareEvents } from './calls/compare';
import { evaluationCalls, evaluationEvents } from './calls/evaluation';
import { benchCalls, benchEvents } from './calls/bench';
import { checksCalls, checksEvents } from './calls/checks';
import { DEMO_LIMITS } from './limits';

export { DEMO_LIMITS, demoOptionsSchema };

/**
 * Every call, composed from one map per domain (src/shared/calls/<domain>.ts). A call's name is
 * `domain:verb`; its input schema is validated where the call enters, whatever the door.
 */
export const calls = {
  ...appCalls,
  ...datasetCalls,
  ...importCalls,
  ...libraryCalls,
  ...runCalls,
  ...annotateCalls,
  ...engineCalls,
  ...compareCalls,
  ...evaluationCalls,
  ...benchCalls,
  ...checksCalls,
} as const;

export const events = {
  ...appEvents,
  ...datasetEvents,
  ...importEvents,
  ...libraryEvents,
  ...runEvents,
  ...annotateEvents,
  ...engineEvents,
  ...compareEvents,
  ...evaluationEvents,
  ...benchEvents,
  ...checksEvents,
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallInput<N extends CallName> = z.input<Calls[N]['input']>;
export type CallParsedInput<N extends CallName> = z.output<Calls[N]['input']>;
export type CallResult<N extends CallName> = Calls[N]['result'];
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = (typeof events)[E];

export const CALL_NAMES = Object.keys(calls) as CallName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}

/** The client-side API: one async method per call. Built by the preload and by the HTTP client. */
export type LabApi = {
  [N in CallName]: (input: CallInput<N>) => Promise<CallResult<N>>;
};

export interface LabEventSource {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/**
 * Validates a call's raw input; throws an Error named ValidationError whose message names
 * the call and each offending field.
 */
export function parseCallInput<N extends CallName>(name: N, raw: unknown): CallParsedInput<N> {
  const result = calls[name].input.safeParse(raw ?? {});
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
      .join('; ');
    const error = new Error(`invalid input for ${name}: ${detail}`);
    error.name = 'ValidationError';
    throw error;
  }
  return result.data as CallParsedInput<N>;
}
