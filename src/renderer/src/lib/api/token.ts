/**
 * The access token of the headless server. `miad-lab serve` prints a URL with `?token=...`; the
 * first load moves it into sessionStorage and strips it from the address bar, so it does not
 * linger in history, bookmarks or screenshots, yet survives a reload of the tab.
 */
import { TOKEN_PARAM } from '../../../../shared/http';

export const TOKEN_STORAGE_KEY = 'miad-lab.token';

/** The slices of `window` the token handling touches; tests pass fakes. */
export interface TokenEnv {
  location: { href: string };
  history: { replaceState(data: unknown, unused: string, url?: string | URL | null): void; state: unknown };
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

/**
 * Returns the token: from the URL when present (then saved and removed from the address bar),
 * else the one saved earlier in this tab, else null.
 */
export function takeToken(env: TokenEnv): string | null {
  const url = new URL(env.location.href);
  const fromUrl = url.searchParams.get(TOKEN_PARAM);
  if (fromUrl !== null && fromUrl.trim() !== '') {
    const token = fromUrl.trim();
    safeSet(env.storage, token);
    url.searchParams.delete(TOKEN_PARAM);
    env.history.replaceState(env.history.state, '', url.pathname + url.search + url.hash);
    return token;
  }
  try {
    const saved = env.storage.getItem(TOKEN_STORAGE_KEY);
    return saved && saved.trim() !== '' ? saved : null;
  } catch {
    return null;
  }
}

/** Saves a token the user pasted (the full printed URL or the bare token); returns the token. */
export function saveToken(storage: TokenEnv['storage'], pasted: string): string | null {
  const token = tokenFromPaste(pasted);
  if (token === null) return null;
  safeSet(storage, token);
  return token;
}

/** Accepts either the bare token or the whole URL `miad-lab serve` printed. */
export function tokenFromPaste(pasted: string): string | null {
  const text = pasted.trim();
  if (text === '') return null;
  if (/^https?:\/\//i.test(text)) {
    try {
      const token = new URL(text).searchParams.get(TOKEN_PARAM);
      return token && token.trim() !== '' ? token.trim() : null;
    } catch {
      return null;
    }
  }
  return /\s/.test(text) ? null : text;
}

function safeSet(storage: TokenEnv['storage'], token: string): void {
  try {
    storage.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Storage can be disabled (private mode, policy); the token still works for this page.
  }
}
