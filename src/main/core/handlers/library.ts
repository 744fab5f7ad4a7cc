/** Handlers of the `library:*` calls. */
import type { DomainHandlers, HandlerContext } from './types';

export function libraryHandlers(_ctx: HandlerContext): DomainHandlers<'library'> {
  return {};
}
