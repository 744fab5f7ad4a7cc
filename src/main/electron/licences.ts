/**
 * The libraries the desktop app ships, with their versions and licences, for the About box: the
 * package's runtime dependencies, the optional ones that are installed (the TensorFlow bindings,
 * WebGPU), Svelte (compiled into the UI), Electron itself, and the platform binaries those
 * libraries install as their own optional dependencies (sharp's libvips, LGPL-3.0-or-later). Read from each library's own
 * package.json under the app's node_modules, so the list is what is installed, not what we remember.
 * No Electron import: tests read the real node_modules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundledLibrary {
  name: string;
  version: string;
  /** The SPDX expression its package.json declares; 'unknown' when it declares none. */
  license: string;
}

/** Packages bundled into the built UI rather than loaded from node_modules at run time. */
const COMPILED_IN = ['svelte'];

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function licenseOf(pkg: Record<string, unknown>): string {
  const l = pkg['license'];
  if (typeof l === 'string' && l.trim()) return l.trim();
  if (l && typeof l === 'object' && typeof (l as { type?: unknown }).type === 'string') return (l as { type: string }).type;
  const list = pkg['licenses'];
  if (Array.isArray(list)) {
    const types = list.map((x) => (x && typeof x === 'object' ? (x as { type?: unknown }).type : x)).filter((t): t is string => typeof t === 'string');
    if (types.length) return types.join(' OR ');
  }
  return 'unknown';
}

/**
 * `appRoot` holds the app's package.json and node_modules. A library that is not installed (an
 * optional one, or Svelte in a production install) is left out; Electron is listed with the
 * version running, when `electronVersion` is given.
 */
export function bundledLibraries(appRoot: string, electronVersion?: string): BundledLibrary[] {
  const app = readJson(join(appRoot, 'package.json')) ?? {};
  const names = new Set<string>([
    ...Object.keys((app['dependencies'] as Record<string, string> | undefined) ?? {}),
    ...Object.keys((app['optionalDependencies'] as Record<string, string> | undefined) ?? {}),
    ...COMPILED_IN,
  ]);
  const found = new Map<string, BundledLibrary>();
  const visit = (name: string, depth: number): void => {
    if (found.has(name)) return;
    const pkg = readJson(join(appRoot, 'node_modules', name, 'package.json'));
    if (!pkg || typeof pkg['version'] !== 'string') return;
    found.set(name, { name, version: pkg['version'], license: licenseOf(pkg) });
    // One level down: the native binaries a library ships as optional dependencies.
    if (depth === 0) for (const dep of Object.keys((pkg['optionalDependencies'] as Record<string, string> | undefined) ?? {})) visit(dep, 1);
  };
  for (const name of names) visit(name, 0);
  const out = [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (electronVersion) {
    const pkg = readJson(join(appRoot, 'node_modules', 'electron', 'package.json'));
    out.unshift({ name: 'electron', version: electronVersion, license: pkg ? licenseOf(pkg) : 'MIT' });
  }
  return out;
}
