/**
 * The Content-Security-Policy of the desktop app, sent as a response header on every response of
 * the default session. It is the same policy as the meta tag of src/renderer/index.html (a test
 * keeps the two equal): the header also covers responses the meta tag cannot (the dev server,
 * frames), and a header cannot be removed by script the way a meta tag can be bypassed.
 * `miad-file:` is the image protocol of protocol.ts.
 */
import type { OnHeadersReceivedListenerDetails, HeadersReceivedResponse, Session } from 'electron';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: miad-file:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** The response headers with our policy in place of any the response already had. */
export function withCsp(
  headers: Record<string, string[]> | undefined,
  policy: string = CONTENT_SECURITY_POLICY,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== 'content-security-policy') out[key] = value;
  }
  out['Content-Security-Policy'] = [policy];
  return out;
}

export function installCsp(session: Pick<Session, 'webRequest'>, policy: string = CONTENT_SECURITY_POLICY): void {
  session.webRequest.onHeadersReceived(
    (details: OnHeadersReceivedListenerDetails, callback: (response: HeadersReceivedResponse) => void) => {
      callback({ responseHeaders: withCsp(details.responseHeaders, policy) });
    },
  );
}
