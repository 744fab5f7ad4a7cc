/**
 * Issue 20, defect 1: `annotate:saveMask` reads the PNG header first and refuses a size other than
 * the sample's before it inflates anything. A crafted PNG that claims 20000×20000 (or hides that
 * size in a second IHDR behind a correct first one) used to be inflated to its claimed size first:
 * an 876 KB request took the server to 2.1 GB. zlib's inflate is counted here, so the test proves
 * the order, not just the message.
 */
import { deflateSync } from 'node:zlib';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Annotation } from '../../src/shared/calls/annotate';
import { encodePng, pngChunk } from '../../src/main/core/image/png';
import { maskFileBytes } from '../../src/main/core/annotate/annotation-service';
import { useTmpDirs } from '../helpers/tmp';
import { H, W, openSmallWorkspace } from './helpers';

const inflates = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:zlib')>();
  const inflateSync: typeof actual.inflateSync = (...args: Parameters<typeof actual.inflateSync>) => {
    inflates.count++;
    return actual.inflateSync(...args);
  };
  return { ...actual, default: { ...actual, inflateSync }, inflateSync };
});

const tmp = useTmpDirs();
const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8; // bit depth
  data[9] = 0; // gray
  return pngChunk('IHDR', data);
}

/** A gray PNG whose IHDR claims width×height, with a little image data (what an attacker sends). */
function claiming(width: number, height: number): Buffer {
  return Buffer.concat([SIGNATURE, ihdr(width, height), pngChunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))), pngChunk('IEND', new Uint8Array(0))]);
}

/** A right-size first IHDR, then a second one that claims 20000×20000 before the image data. */
function secondIhdr(): Buffer {
  const good = encodePng(new Uint8Array(W * H), W, H, 1);
  return Buffer.concat([good.subarray(0, 33), ihdr(20000, 20000), good.subarray(33)]);
}

beforeEach(() => {
  inflates.count = 0;
});

describe('a mask of the wrong size is refused from its header, before any inflate', () => {
  it('maskFileBytes: a 20000×20000 header is refused with the two sizes, nothing inflated', () => {
    expect(() => maskFileBytes(claiming(20000, 20000), W, H)).toThrow(/20000×20000 but the image is 8×6/);
    expect(inflates.count).toBe(0);
  });

  it('maskFileBytes: a second IHDR is refused, nothing inflated', () => {
    expect(() => maskFileBytes(secondIhdr(), W, H)).toThrow(/IHDR/);
    expect(inflates.count).toBe(0);
  });

  it('annotate:saveMask refuses both as ValidationError without inflating, and still saves a right-size mask', async () => {
    const { host, id } = await openSmallWorkspace(await tmp());
    const crack = id('wind_turbine/test/crack/000.png');
    inflates.count = 0;
    for (const png of [claiming(20000, 20000), claiming(W + 1, H), secondIhdr()]) {
      await expect(host.invoke('annotate:saveMask', { sampleId: crack, png: png.toString('base64') })).rejects.toMatchObject({ name: 'ValidationError' });
    }
    expect(inflates.count).toBe(0);
    const saved = (await host.invoke('annotate:saveMask', { sampleId: crack, png: encodePng(new Uint8Array(W * H).fill(255), W, H, 1).toString('base64') })) as Annotation;
    expect(saved.maskEdited).toBe(true);
    expect(inflates.count).toBe(1);
    await host.close();
  });
});
