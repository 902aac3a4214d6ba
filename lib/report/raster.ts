/** SVG to PNG with sharp (librsvg), for the report's `.png` charts. */
import sharp from 'sharp';
import { invalidArgument } from '../errors.js';

/**
 * Rasterises an SVG document to PNG bytes. `scale` multiplies the SVG's own `width`/`height`
 * (default 2, for sharp text on high-density screens): a 400×300 SVG becomes an 800×600 PNG.
 */
export function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  if (typeof svg !== 'string' || !svg.includes('<svg')) throw invalidArgument('svg', 'an SVG document string', svg);
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 16)) throw invalidArgument('scale', 'a number in (0, 16]', scale);
  return sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
}
