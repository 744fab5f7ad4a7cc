/**
 * Zoom and pan of an image in a box, as pure functions over a view value, shared by the Library's
 * sample viewer and the annotation editor (ZoomStage.svelte draws it). The image is drawn with
 * its top-left corner at (panX, panY) of the box, scaled by `zoom` (screen px per image px), so
 * screen → image is one subtraction and one division, and painting maps to the right pixel at
 * any zoom.
 */

export interface View {
  /** Screen pixels per image pixel. */
  zoom: number;
  /** Box-relative screen position of the image's top-left corner. */
  panX: number;
  panY: number;
}

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 32;

/** The view that shows the whole `width`×`height` image centred in the box, `margin` px clear on every side. */
export function fitView(width: number, height: number, boxWidth: number, boxHeight: number, margin = 0): View {
  const zoom = Math.max(MIN_ZOOM, Math.min((boxWidth - 2 * margin) / width, (boxHeight - 2 * margin) / height));
  return { zoom, panX: (boxWidth - width * zoom) / 2, panY: (boxHeight - height * zoom) / 2 };
}

/** Zooms by `factor` keeping the box point (cx, cy) over the same image point; zoom clamped. */
export function zoomAbout(view: View, factor: number, cx: number, cy: number): View {
  const zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, view.zoom * factor));
  const f = zoom / view.zoom;
  return { zoom, panX: cx - (cx - view.panX) * f, panY: cy - (cy - view.panY) * f };
}

/** Sets the zoom to `zoom` about the box point (cx, cy) (100 %: `zoom` 1). */
export function zoomTo(view: View, zoom: number, cx: number, cy: number): View {
  return zoomAbout(view, zoom / view.zoom, cx, cy);
}

/** The image point (fractional image pixels) under the box point (x, y). */
export function screenToImage(view: View, x: number, y: number): { x: number; y: number } {
  return { x: (x - view.panX) / view.zoom, y: (y - view.panY) / view.zoom };
}

/** The box point over the image point (x, y). */
export function imageToScreen(view: View, x: number, y: number): { x: number; y: number } {
  return { x: view.panX + x * view.zoom, y: view.panY + y * view.zoom };
}

/** The wheel's zoom factor: one notch (deltaY ±100 px, or ±3 lines) is ×1.15 either way. */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 33 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.pow(1.15, -Math.max(-5, Math.min(5, px / 100)));
}
