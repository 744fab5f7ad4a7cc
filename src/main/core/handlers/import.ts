/** Handlers of the `import:*` calls. */
import type { DomainHandlers, HandlerContext } from './types';

export function importHandlers(_ctx: HandlerContext): DomainHandlers<'import'> {
  return {};
}
