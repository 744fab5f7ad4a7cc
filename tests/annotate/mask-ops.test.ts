/** The mask editor's pixel operations: brush stamps and strokes, flood fill, clear, undo/redo. */
import { describe, expect, it } from 'vitest';
import {
  clearMask,
  cloneMask,
  countSet,
  emptyMask,
  floodFill,
  fromRgba,
  MaskHistory,
  stamp,
  strokeLine,
  toGray,
  type Mask,
} from '../../src/renderer/src/lib/annotate/mask-ops';

function draw(mask: Mask): string {
  const rows: string[] = [];
  for (let y = 0; y < mask.height; y++) rows.push(Array.from(mask.data.subarray(y * mask.width, (y + 1) * mask.width), (v) => (v ? '#' : '.')).join(''));
  return rows.join('\n');
}

function parse(picture: string): Mask {
  const rows = picture.trim().split('\n').map((r) => r.trim());
  const mask = emptyMask(rows[0]!.length, rows.length);
  rows.forEach((r, y) => [...r].forEach((c, x) => (mask.data[y * mask.width + x] = c === '#' ? 1 : 0)));
  return mask;
}

describe('mask operations', () => {
  it('stamps a disc of the brush radius, clipped at the edges, and erases with 0', () => {
    const m = emptyMask(7, 7);
    expect(stamp(m, 3.5, 3.5, 1.5, 1)).toBe(9);
    expect(draw(m)).toBe(['.......', '.......', '..###..', '..###..', '..###..', '.......', '.......'].join('\n'));
    const big = emptyMask(7, 7);
    stamp(big, 3.5, 3.5, 2.6, 1);
    // A disc, not a square: corners of the 5×5 box stay clear.
    expect(draw(big)).toBe(['.......', '..###..', '.#####.', '.#####.', '.#####.', '..###..', '.......'].join('\n'));
    // A stamp at the corner is clipped, and a tiny radius paints the pixel under the point.
    const edge = emptyMask(4, 4);
    expect(stamp(edge, 0, 0, 1.2, 1)).toBe(1);
    expect(stamp(edge, 3.2, 3.9, 0.1, 1)).toBe(1);
    expect(edge.data[15]).toBe(1);
    expect(stamp(m, 3.5, 3.5, 0.5, 0)).toBe(1);
    expect(countSet(m)).toBe(8);
  });

  it('strokes leave no gaps however far apart the pointer samples are', () => {
    const m = emptyMask(40, 5);
    strokeLine(m, 0.5, 2.5, 39.5, 2.5, 0.5, 1);
    expect(Array.from(m.data.subarray(80, 120)).every((v) => v === 1)).toBe(true);
    expect(countSet(m)).toBe(40);
    const d = emptyMask(10, 10);
    strokeLine(d, 0.5, 0.5, 9.5, 9.5, 0.5, 1);
    for (let i = 0; i < 10; i++) expect(d.data[i * 10 + i]).toBe(1);
  });

  it('flood fills the 4-connected region only', () => {
    const m = parse(`
      ..#....
      ..#.##.
      ###.#..
      ....#.#
      ....###`);
    expect(floodFill(m, 0, 0, 1)).toBe(4);
    expect(draw(m)).toBe(['###....', '###.##.', '###.#..', '....#.#', '....###'].join('\n'));
    // The region right of the wall reaches round under it: 18 pixels.
    expect(floodFill(m, 3, 0, 1)).toBe(18);
    expect(countSet(m)).toBe(35);
    // A pixel touching a region only diagonally is not part of it.
    const d = parse(`
      #.
      .#`);
    expect(floodFill(d, 0, 0, 0)).toBe(1);
    expect(draw(d)).toBe('..\n.#');
    // Filling a region with its own value, or outside, changes nothing.
    expect(floodFill(m, 0, 0, 1)).toBe(0);
    expect(floodFill(m, -1, 2, 0)).toBe(0);
    // Erase-fill a whole large region without deep recursion.
    const big = emptyMask(1000, 1000);
    big.data.fill(1);
    expect(floodFill(big, 500, 500, 0)).toBe(1_000_000);
  });

  it('converts to 0/255 gray and back from RGBA', () => {
    const m = parse(`
      #.
      .#`);
    expect([...toGray(m)]).toEqual([255, 0, 0, 255]);
    // The one mask rule (shared/mask-rule.ts): any colour channel > 0, however faint; alpha is not ground truth.
    const rgba = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 1, 255]);
    expect([...fromRgba(rgba, 2, 2).data]).toEqual([1, 0, 0, 1]);
  });

  it('undoes and redoes whole operations, drops redo on a new edit, and forgets past its limit', () => {
    const m = emptyMask(5, 5);
    const h = new MaskHistory(m, 3);
    expect(h.canUndo).toBe(false);
    stamp(m, 1.5, 1.5, 0.5, 1);
    expect(h.commit(m)).toBe(true);
    expect(h.commit(m)).toBe(false);
    floodFill(m, 4, 4, 1);
    h.commit(m);
    const undone = h.undo()!;
    expect(countSet(undone)).toBe(1);
    expect(countSet(h.undo()!)).toBe(0);
    expect(h.undo()).toBeNull();
    expect(countSet(h.redo()!)).toBe(1);
    // A new edit after undo drops what could be redone.
    const branch = cloneMask(undone);
    stamp(branch, 3.5, 3.5, 0.5, 1);
    h.commit(branch);
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toBeNull();
    // Returned masks are copies: mutating one does not change the history.
    const copy = h.undo()!;
    clearMask(copy);
    expect(countSet(h.redo()!)).toBe(2);
    // Limit 3: after 5 commits only 3 undos remain.
    const l = new MaskHistory(emptyMask(2, 2), 3);
    for (let i = 0; i < 4; i++) {
      const s = emptyMask(2, 2);
      s.data[i] = 1;
      l.commit(s);
    }
    let n = 0;
    while (l.undo()) n++;
    expect(n).toBe(3);
  });
});
