"""Where a word is on the page: upload a document, wait, find a word in its layout and print
its box in pixels of the first page's thumbnail (the box to draw to highlight it).
Usage: DOCINTEL_BASE_URL=… DOCINTEL_API_KEY=… python highlight_word.py invoice.pdf [Total]

With Pillow installed, it also draws the box on the thumbnail (highlighted.png)."""
import sys

import docintel
from docintel.layout import find_words, png_size

word = sys.argv[2] if len(sys.argv) > 2 else "Total"
client = docintel.Client()  # reads DOCINTEL_BASE_URL and DOCINTEL_API_KEY
doc = client.upload_and_wait(sys.argv[1], timeout=60)

# Every page, a range at a time (following next_pages).
pages = list(client.iter_layout_pages(doc.id))
found = find_words(pages, word)
print(f"layout: {len(pages)} page(s); {word!r} found {len(found)} time(s)")
for f in found:
    print(f"page {f.page}: {f.word.text!r} at [{', '.join(f'{v:.4f}' for v in f.bbox)}]")

# The thumbnail shows the first page, its longest side 256 pixels.
first = next((f for f in found if f.page == 1), None)
if first is not None:
    png = client.get_document_thumbnail(doc.id)
    width, height = png_size(png)
    box = first.to_pixels(width, height)
    print(f"thumbnail {width}x{height}: {first.word.text!r} at {box.left},{box.top} -> "
          f"{box.right},{box.bottom} ({box.width}x{box.height})")
    try:
        import io

        from PIL import Image, ImageDraw
    except ImportError:
        pass
    else:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        ImageDraw.Draw(image).rectangle((box.left, box.top, box.right - 1, box.bottom - 1), outline="red", width=2)
        image.save("highlighted.png")
        print("drawn on highlighted.png")
