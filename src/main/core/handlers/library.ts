/**
 * Handlers of the `library:*` calls. One LibraryService per open Lab (kept in a WeakMap, so a
 * closed workspace's index and thumbnail queue go with it); inputs arrive validated.
 */
import { join } from 'node:path';
import type { Lab } from '../lab';
import { LibraryService } from '../library/library-service';
import { LibraryRepo } from '../store/library-repo';
import type { DomainHandlers, HandlerContext } from './types';

const services = new WeakMap<Lab, LibraryService>();

/** The Library of an open lab, made on first use. */
export function libraryOf(lab: Lab): LibraryService {
  let service = services.get(lab);
  if (!service) {
    service = new LibraryService({ repo: new LibraryRepo(lab.store), thumbsDir: join(lab.dir, 'thumbs') });
    services.set(lab, service);
  }
  return service;
}

export function libraryHandlers(ctx: HandlerContext): DomainHandlers<'library'> {
  const library = () => libraryOf(ctx.requireLab());
  return {
    'library:query': async ({ filter, sort, offset, limit }) => library().query(filter, sort, offset, limit),
    'library:facets': async ({ filter }) => library().facets(filter),
    'library:sample': async ({ id }) => library().sample(id),
    'library:thumbnails': async ({ ids }) => ({ items: await library().thumbnails(ids) }),
    'library:selection': async ({ selection, sort, offset, limit }) => library().selection(selection, sort, offset, limit),
  };
}
