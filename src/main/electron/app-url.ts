/**
 * Where the app's own code lives, and the one test of "is this URL ours" that the window's
 * navigation guard and the IPC sender check share. The built main process is
 * out/main/index.js; its preload and renderer sit beside it in out/preload and out/renderer.
 * In development electron-vite serves the renderer and passes its URL in ELECTRON_RENDERER_URL.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppPaths {
  /** out/preload/index.cjs: CommonJS because a sandboxed preload cannot be an ES module. */
  preload: string;
  /** out/renderer/index.html */
  rendererIndex: string;
  /** The app's folder: package.json, node_modules, resources/. */
  appRoot: string;
  /** resources/icon.png (made from resources/icon.svg by scripts/make-icons.ts): the window's and taskbar's icon. */
  icon: string;
}

/** The paths relative to the directory of the built main bundle (out/main). */
export function appPaths(mainDir: string): AppPaths {
  return {
    preload: join(mainDir, '..', 'preload', 'index.cjs'),
    rendererIndex: join(mainDir, '..', 'renderer', 'index.html'),
    appRoot: join(mainDir, '..', '..'),
    icon: join(mainDir, '..', '..', 'resources', 'icon.png'),
  };
}

/** Directory of the running main bundle; the package is "type": "module", so no __dirname. */
export function mainDirOf(moduleUrl: string): string {
  return dirname(fileURLToPath(moduleUrl));
}

/** What the window loads: the dev server URL, or the built index.html as a file. */
export type RendererSource = { kind: 'url'; url: string } | { kind: 'file'; path: string };

/**
 * The dev server only when not packaged: a packaged app must never be pointed at another page
 * by an environment variable.
 */
export function rendererSource(paths: AppPaths, devServerUrl: string | undefined, isPackaged: boolean): RendererSource {
  if (!isPackaged && devServerUrl && /^https?:\/\//i.test(devServerUrl)) return { kind: 'url', url: devServerUrl };
  return { kind: 'file', path: paths.rendererIndex };
}

/**
 * A predicate true for URLs of the app's own renderer: any path of the dev server's origin, or
 * exactly the built index.html (any query or hash). Everything else (other files, other
 * origins, data:, javascript:) is foreign.
 */
export function appUrlMatcher(source: RendererSource, platform: NodeJS.Platform = process.platform): (url: string) => boolean {
  if (source.kind === 'url') {
    const origin = new URL(source.url).origin;
    return (url) => {
      try {
        return new URL(url).origin === origin;
      } catch {
        return false;
      }
    };
  }
  const fold = (p: string) => (platform === 'win32' || platform === 'darwin' ? p.toLowerCase() : p);
  const index = fold(resolve(source.path));
  return (url) => {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'file:' || (parsed.host !== '' && parsed.host !== 'localhost')) return false;
      return fold(resolve(fileURLToPath(parsed))) === index;
    } catch {
      return false;
    }
  };
}
