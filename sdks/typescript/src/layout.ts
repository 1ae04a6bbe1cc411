// Where words are on a page: find a word in a document's layout and turn its box into
// pixels of a rendering (its thumbnail, a page image) to highlight it.
import { DocintelError } from "./errors.js";
import type { components } from "./generated/v2.js";

type Schemas = components["schemas"];
/** A document's pages with their words and boxes (`client.documents.layout(id)`). */
export type DocumentLayout = Schemas["DocumentLayout"];
/** One page of a layout: its size, `rotation`, where its words came from, its blocks. */
export type PageView = Schemas["PageView"];
/** A word, its `bbox` and (for OCR'd words) Tesseract's `confidence`. */
export type WordView = Schemas["WordView"];
/**
 * A box on the page: `[x0, y0, x1, y1]`, each from 0 to 1 of the page's width (x) or
 * height (y), from its top-left corner, y growing downwards, on the page before its
 * `rotation`.
 */
export type BoundingBox = Schemas["BoundingBox"];

// A box's numbers are written from f32 (0.2 is 0.2000000030): an edge within a
// thousandth of a pixel of a whole pixel is on it, not rounded out past it.
const SLACK = 1e-3;

/**
 * A box in pixels of a rendering: `left` and `top` are the first column and row it
 * covers, `right` and `bottom` one past the last ones (a canvas draws it with
 * `ctx.strokeRect(left, top, width, height)`).
 *
 * @example
 * ```ts
 * const { left, top, width, height } = toPixels(word.bbox, 181, 256);
 * ```
 */
export interface PixelBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

/** The four numbers, each clamped to 0..1 (missing or not a number: 0), ordered. */
function coords(bbox: readonly number[]): [number, number, number, number] {
  const at = (i: number) => {
    const v = bbox[i];
    return v === undefined || !Number.isFinite(v) ? 0 : Math.min(1, Math.max(0, v));
  };
  const [x0, y0, x1, y1] = [at(0), at(1), at(2), at(3)];
  return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
}

/**
 * The normalised box `bbox` in pixels of a `width` × `height` rendering of its page,
 * such as its thumbnail (longest side 256 pixels): each edge scaled and rounded outwards,
 * within the image. For a page with a `rotation`, turn the box first with {@link shown}
 * ({@link findWords} does).
 *
 * @example
 * ```ts
 * toPixels([0.1176, 0.0712, 0.2471, 0.0871], 181, 256);
 * // { left: 21, top: 18, right: 45, bottom: 23, width: 24, height: 5 }
 * ```
 */
export function toPixels(bbox: readonly number[], width: number, height: number): PixelBox {
  const [x0, y0, x1, y1] = coords(bbox);
  const down = (v: number, size: number) => Math.min(size, Math.max(0, Math.floor(v * size + SLACK)));
  const up = (v: number, size: number) => Math.min(size, Math.max(0, Math.ceil(v * size - SLACK)));
  const left = down(x0, width);
  const top = down(y0, height);
  const right = up(x1, width);
  const bottom = up(y1, height);
  return { left, top, right, bottom, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/**
 * `bbox`, a box on `page` as the API gives it, on the page as it is shown: turned
 * clockwise by the page's `rotation` (0, 90, 180 or 270). The box to scale to a rendering
 * of the page; unchanged for a rotation of 0 (as for OCR'd pages).
 *
 * @example
 * ```ts
 * shown({ ...page, rotation: 90 }, [0, 0, 0.25, 0.5]); // [0.5, 0, 1, 0.25]
 * ```
 */
export function shown(page: Pick<PageView, "rotation">, bbox: readonly number[]): BoundingBox {
  const [x0, y0, x1, y1] = coords(bbox);
  switch (((page.rotation % 360) + 360) % 360) {
    case 90:
      return [1 - y1, x0, 1 - y0, x1];
    case 180:
      return [1 - x1, 1 - y1, 1 - x0, 1 - y0];
    case 270:
      return [y0, 1 - x1, y1, 1 - x0];
    default:
      return [x0, y0, x1, y1];
  }
}

/**
 * The page's words in reading order (block by block, line by line).
 *
 * @example
 * ```ts
 * const text = [...words(layout.pages[0]!)].map((w) => w.text).join(" ");
 * ```
 */
export function* words(page: PageView): Generator<WordView> {
  for (const block of page.blocks) for (const line of block.lines) yield* line.words;
}

/**
 * A word {@link findWords} found: its page's number, the word (`text`, `bbox` as the API
 * gave it, `confidence`) and `bbox`, its box on the page as shown (turned by the page's
 * rotation): the box to scale to a rendering, as {@link FoundWord.toPixels} does.
 *
 * @example
 * ```ts
 * const [total] = findWords(layout, "Total");
 * if (total) console.log(total.page, total.word.text, total.toPixels(181, 256));
 * ```
 */
export class FoundWord {
  constructor(
    /** The page's number (1-based). */
    readonly page: number,
    /** The word as the API gave it. */
    readonly word: WordView,
    /** The word's box on the page as it is shown. */
    readonly bbox: BoundingBox,
  ) {}

  /** The word's box in pixels of a `width` × `height` rendering of its page. @example `found.toPixels(181, 256)` */
  toPixels(width: number, height: number): PixelBox {
    return toPixels(this.bbox, width, height);
  }
}

function normalise(text: string): string {
  return text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "").toLocaleLowerCase();
}

function isLayout(x: unknown): x is DocumentLayout {
  return typeof x === "object" && x !== null && "pages" in x && Array.isArray((x as DocumentLayout).pages);
}

function isPage(x: unknown): x is PageView {
  return typeof x === "object" && x !== null && "blocks" in x && Array.isArray((x as PageView).blocks);
}

/**
 * The words equal to `text` (one word), ignoring case and the punctuation around a word
 * (`"total"` finds `Total:` and `(TOTAL)`), in page and reading order. `pages` is a
 * layout, a page, or pages (e.g. every page of a long document, gathered from
 * `client.documents.layoutPages(id)`).
 *
 * @example
 * ```ts
 * for (const found of findWords(await client.documents.layout(doc.id), "Total")) {
 *   console.log(found.page, found.word.text, found.bbox);
 * }
 * ```
 */
export function findWords(pages: DocumentLayout | PageView | Iterable<PageView>, text: string): FoundWord[] {
  const wanted = normalise(text);
  if (!wanted) return [];
  const every: Iterable<PageView> = isLayout(pages) ? pages.pages : isPage(pages) ? [pages] : pages;
  const found: FoundWord[] = [];
  for (const page of every) {
    for (const word of words(page)) {
      if (normalise(word.text) === wanted) found.push(new FoundWord(page.number, word, shown(page, word.bbox)));
    }
  }
  return found;
}

/**
 * The width and height of a PNG (a thumbnail), read from its header.
 *
 * @example
 * ```ts
 * const png = await client.documents.thumbnail(doc.id);
 * const { width, height } = pngSize(new Uint8Array(await png.arrayBuffer()));
 * ```
 */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = [0x49, 0x48, 0x44, 0x52];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b) || ihdr.some((b, i) => png[12 + i] !== b)) {
    throw new DocintelError("not a PNG");
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
