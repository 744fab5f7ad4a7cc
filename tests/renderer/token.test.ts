import { describe, expect, it } from 'vitest';
import { TOKEN_STORAGE_KEY, saveToken, takeToken, tokenFromPaste, type TokenEnv } from '../../src/renderer/src/lib/api/token';

function fakeEnv(href: string, stored: string | null = null) {
  const store = new Map<string, string>();
  if (stored !== null) store.set(TOKEN_STORAGE_KEY, stored);
  const replaced: string[] = [];
  const env: TokenEnv = {
    location: { href },
    history: { state: { keep: 1 }, replaceState: (_data, _unused, url) => void replaced.push(String(url)) },
    storage: {
      getItem: (key) => store.get(key) ?? null,
      setItem: (key, value) => void store.set(key, value),
      removeItem: (key) => void store.delete(key),
    },
  };
  return { env, store, replaced };
}

describe('takeToken', () => {
  it('moves the token from the URL into storage and strips it from the address bar', () => {
    const { env, store, replaced } = fakeEnv('http://127.0.0.1:5175/?token=abc123&x=1#top');
    expect(takeToken(env)).toBe('abc123');
    expect(store.get(TOKEN_STORAGE_KEY)).toBe('abc123');
    expect(replaced).toEqual(['/?x=1#top']);
  });

  it('falls back to the token saved earlier in the tab, without touching history', () => {
    const { env, replaced } = fakeEnv('http://127.0.0.1:5175/', 'saved');
    expect(takeToken(env)).toBe('saved');
    expect(replaced).toEqual([]);
  });

  it('prefers a new token in the URL over a stale saved one', () => {
    const { env, store } = fakeEnv('http://127.0.0.1:5175/?token=new', 'old');
    expect(takeToken(env)).toBe('new');
    expect(store.get(TOKEN_STORAGE_KEY)).toBe('new');
  });

  it('returns null when there is no token anywhere', () => {
    expect(takeToken(fakeEnv('http://127.0.0.1:5175/?token=').env)).toBeNull();
  });

  it('still returns the token when storage throws', () => {
    const { env } = fakeEnv('http://h/?token=t1');
    env.storage.setItem = () => {
      throw new Error('denied');
    };
    expect(takeToken(env)).toBe('t1');
  });
});

describe('tokenFromPaste / saveToken', () => {
  it('accepts the printed URL or the bare token, and rejects other text', () => {
    expect(tokenFromPaste('  http://127.0.0.1:5175/?token=ff00  ')).toBe('ff00');
    expect(tokenFromPaste('ff00')).toBe('ff00');
    expect(tokenFromPaste('http://127.0.0.1:5175/')).toBeNull();
    expect(tokenFromPaste('two words')).toBeNull();
    expect(tokenFromPaste('   ')).toBeNull();
  });

  it('saves what it accepts', () => {
    const { env, store } = fakeEnv('http://h/');
    expect(saveToken(env.storage, 'http://h/?token=zz')).toBe('zz');
    expect(store.get(TOKEN_STORAGE_KEY)).toBe('zz');
  });
});
