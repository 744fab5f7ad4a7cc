/**
 * The checks every bundle manifest goes through before anything from the wire is written
 * (transfer/manifest.ts): safe relative paths only, no path twice (also ignoring case), no file that
 * is another's folder; and canonical JSON, which makes a digest independent of key order.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, checkBundleFiles, unsafePathReason } from '../../src/main/core/transfer/manifest';

const file = (path: string) => ({ path, size: 1, sha256: 'a'.repeat(64) });

describe('bundle manifests', () => {
  it('accept only relative paths that stay inside the bundle folder', () => {
    for (const ok of ['a.png', 'nut_and_bolt/train/good/000.png', '.curation/masks/x.png', 'with space/ü.png']) expect(unsafePathReason(ok)).toBeNull();
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['/etc/passwd', /absolute/],
      ['C:/x.png', /absolute/],
      ['../x.png', /climbs out/],
      ['a/../../x.png', /climbs out/],
      ['a/./x.png', /"\." segment/],
      ['a//x.png', /empty/],
      ['a/', /empty/],
      ['a\\..\\x.png', /backslash/],
      ['a\0.png', /NUL/],
      ['x'.repeat(1025), /longer than 1024/],
    ];
    for (const [path, why] of bad) expect(unsafePathReason(path), path).toMatch(why);
  });

  it('refuse a file list with an unsafe path, a path twice (also in another case) or a file that is also a folder', () => {
    expect(() => checkBundleFiles('b', [file('a/b.png'), file('a/c.png')])).not.toThrow();
    expect(() => checkBundleFiles('b', [file('a/../../b.png')])).toThrow(/climbs out with \.\.; nothing was written/);
    expect(() => checkBundleFiles('b', [file('a/b.png'), file('A/B.png')])).toThrow(/listed twice/);
    expect(() => checkBundleFiles('b', [file('a'), file('a/b.png')])).toThrow(/both a file and a folder/);
  });

  it('write canonical JSON: the same value in any key order gives the same text', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, { x: 0, y: 1 }] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
  });
});
