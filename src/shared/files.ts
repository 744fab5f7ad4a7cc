/**
 * How the renderer names a file on disk it wants to show (an image, a mask). In the desktop app
 * through the custom protocol `miad-file://local/<encoded absolute path>`; in a browser through the
 * server's `/api/file?path=...`. Either way the main side serves only files its store knows
 * (samples, masks, thumbnails, run pictures: src/main/core/served-files.ts), as images.
 */
export const FILE_PROTOCOL = 'miad-file';
export const FILE_PROTOCOL_HOST = 'local';

export function fileProtocolUrl(absPath: string): string {
  return `${FILE_PROTOCOL}://${FILE_PROTOCOL_HOST}/${encodeURIComponent(absPath)}`;
}

/** The absolute path a `miad-file://local/...` URL names, or null when the URL is not of that form. */
export function pathFromFileProtocolUrl(url: string): string | null {
  const prefix = `${FILE_PROTOCOL}://${FILE_PROTOCOL_HOST}/`;
  if (!url.startsWith(prefix)) return null;
  const encoded = url.slice(prefix.length).split(/[?#]/)[0] ?? '';
  try {
    const decoded = decodeURIComponent(encoded);
    return decoded.length > 0 ? decoded : null;
  } catch {
    return null;
  }
}
