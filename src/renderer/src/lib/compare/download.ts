/**
 * Saving what the Compare view shows: a Blob handed to the browser as a download (an object URL on
 * an `<a download>`, which both Chromium and Electron treat as a file save), canvases as PNG, and
 * SVG text rasterised to PNG through an Image. No server round trip: the renderer has the pixels.
 */

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the URL by the next task; revoking at once can cancel it in Chromium.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(text: string, filename: string, mime: string): void {
  downloadBlob(new Blob([text], { type: mime }), filename);
}

export function canvasPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
}

/** Width and height an SVG document declares (its root's width/height attributes). */
export function svgSize(svg: string): { width: number; height: number } {
  const w = /<svg[^>]*\swidth=["']([\d.]+)["']/.exec(svg);
  const h = /<svg[^>]*\sheight=["']([\d.]+)["']/.exec(svg);
  return { width: w ? Number(w[1]) : 600, height: h ? Number(h[1]) : 400 };
}

/** Rasterises SVG text at `scale` × its declared size into a PNG. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const { width, height } = svgSize(svg);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvasPng(canvas);
}

/** A file name safe on every OS from free text. */
export function safeName(text: string): string {
  return text.replace(/[^\w.-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'export';
}
