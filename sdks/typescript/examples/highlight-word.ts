// Where a word is on the page: upload a document, wait, find a word in its layout and
// print its box in pixels of the first page's thumbnail (the box to draw to highlight it).
// node highlight-word.mjs invoice.pdf [Total]
import { Docintel, findWords, pngSize, type PageView } from "@docintel/sdk";

const word = process.argv[3] ?? "Total";
const client = new Docintel(); // reads DOCINTEL_BASE_URL and DOCINTEL_API_KEY
const doc = await client.documents.uploadFileAndWait(process.argv[2] ?? "invoice.pdf", { timeoutMs: 60_000 });

// Every page, a range at a time (following next_pages).
const pages: PageView[] = [];
for await (const page of client.documents.layoutPages(doc.id)) pages.push(page);
const found = findWords(pages, word);
console.log(`layout: ${pages.length} page(s); ${JSON.stringify(word)} found ${found.length} time(s)`);
for (const f of found) console.log(`page ${f.page}: ${JSON.stringify(f.word.text)} at [${f.bbox.map((v) => v.toFixed(4)).join(", ")}]`);

// The thumbnail shows the first page, its longest side 256 pixels. In a browser, draw the
// box over it with ctx.strokeRect(box.left, box.top, box.width, box.height).
const first = found.find((f) => f.page === 1);
if (first) {
  const png = new Uint8Array(await (await client.documents.thumbnail(doc.id)).arrayBuffer());
  const { width, height } = pngSize(png);
  const box = first.toPixels(width, height);
  console.log(`thumbnail ${width}x${height}: ${JSON.stringify(first.word.text)} at ${box.left},${box.top} -> ${box.right},${box.bottom} (${box.width}x${box.height})`);
}
