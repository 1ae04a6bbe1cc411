#!/usr/bin/env python3
"""Builds the layout-quality corpus: PDFs of the kinds people upload, each with a truth file
NAME.truth.json that gives every word's text, box, font, size, line and block.

Every word is drawn by canvas.drawString at a position this script chose, in one of the
standard 14 fonts (not embedded, no kerning), so its box is known exactly:
  x0 = x of the word's first glyph origin, x1 = x0 + stringWidth(word, font, size)
  y0 = baseline + ascent, y1 = baseline + descent   (pdfmetrics.getAscentDescent)
then turned to a top-left origin with y growing down and normalised by the page size.

Run by ./build.sh; needs reportlab (PyPI). Deterministic: fixed seeds, invariant=1,
positions rounded to 0.01 pt before drawing so that the PDF holds exactly what the truth says.
Usage: make_corpus.py OUT"""

import json
import os
import random
import sys

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

OUT = sys.argv[1] if len(sys.argv) > 1 else "."

# Page sizes as written in the MediaBox (points), so that the truth's width/height are exact.
A4 = ("A4", 595.28, 841.89)
LETTER = ("Letter", 612.0, 792.0)


def r2(v):
    return round(v + 0.0, 2)


def width(text, font, size):
    return pdfmetrics.stringWidth(text, font, size)


def wrap(text, font, size, max_width):
    """Greedy line breaking on single spaces; no hyphenation."""
    lines, cur = [], []
    for word in text.split(" "):
        trial = " ".join(cur + [word])
        if cur and width(trial, font, size) > max_width:
            lines.append(" ".join(cur))
            cur = [word]
        else:
            cur.append(word)
    if cur:
        lines.append(" ".join(cur))
    return lines


class Page:
    """One page: draws text and records its words in reading order.

    The caller draws in reading order; begin_block() and begin_line() advance the indexes."""

    def __init__(self, doc, number):
        self.doc = doc
        self.c = doc.c
        self.number = number
        self.paper, self.w, self.h = doc.size
        self.words = []
        self.block = -1
        self.line = -1

    def begin_block(self):
        self.block += 1

    def begin_line(self):
        self.line += 1

    def put(self, x, top, text, font, size):
        """Draws TEXT with its baseline TOP points below the page's top edge, first glyph at X."""
        assert text == text.strip() and "  " not in text, repr(text)
        x = r2(x)
        baseline = r2(self.h - top)
        self.c.setFont(font, size)
        self.c.drawString(x, baseline, text)
        ascent, descent = pdfmetrics.getAscentDescent(font, size)
        pos = 0
        for word in text.split(" "):
            x0 = x + width(text[:pos], font, size)
            x1 = x0 + width(word, font, size)
            self.words.append(
                {
                    "text": word,
                    "box": [
                        round(x0 / self.w, 5),
                        round((self.h - (baseline + ascent)) / self.h, 5),
                        round(x1 / self.w, 5),
                        round((self.h - (baseline + descent)) / self.h, 5),
                    ],
                    "font": font,
                    "size": size,
                    "line": self.line,
                    "block": self.block,
                }
            )
            pos += len(word) + 1
        return x + width(text, font, size)

    def put_right(self, x_right, top, text, font, size):
        return self.put(r2(x_right - width(text, font, size)), top, text, font, size)

    def put_centred(self, x_mid, top, text, font, size):
        return self.put(r2(x_mid - width(text, font, size) / 2), top, text, font, size)

    def line_of(self, x, top, text, font, size):
        self.begin_line()
        return self.put(x, top, text, font, size)

    def runs(self, x, top, runs):
        """One line made of runs [(text, font, size)] separated by one space of the run before."""
        self.begin_line()
        for i, (text, font, size) in enumerate(runs):
            end = self.put(x, top, text, font, size)
            x = r2(end + width(" ", font, size))

    def paragraph(self, x, top, text, font, size, max_width, leading):
        """A wrapped paragraph (lines of one block); returns the top of the line after it."""
        for line in wrap(text, font, size, max_width):
            self.line_of(x, top, line, font, size)
            top += leading
        return top

    def item(self, x, top, marker, text, font, size, max_width, leading, gap):
        """A list item: MARKER at X, its text at X + GAP, continuation lines aligned on the text."""
        lines = wrap(text, font, size, max_width - gap)
        for i, line in enumerate(lines):
            self.begin_line()
            if i == 0:
                self.put(x, top, marker, font, size)
            self.put(x + gap, top, line, font, size)
            top += leading
        return top


class Doc:
    def __init__(self, name, size, title):
        self.name = name
        self.size = size
        self.c = canvas.Canvas(os.path.join(OUT, name + ".pdf"), pagesize=size[1:], invariant=1)
        self.c.setCreator("docintel layout corpus")
        self.c.setTitle(title)
        self.c.setFillColorRGB(0, 0, 0)
        self.pages = []

    def page(self):
        if self.pages:
            self.c.showPage()
            self.c.setFillColorRGB(0, 0, 0)
        p = Page(self, len(self.pages) + 1)
        self.pages.append(p)
        return p

    def save(self):
        self.c.showPage()
        self.c.save()
        truth = {
            "source": self.name + ".pdf",
            "pages": [
                {
                    "number": p.number,
                    "paper": p.paper,
                    "width": p.w,
                    "height": p.h,
                    "unit": "pt",
                    "words": p.words,
                }
                for p in self.pages
            ],
        }
        with open(os.path.join(OUT, self.name + ".truth.json"), "w", encoding="utf-8") as f:
            f.write(dump_truth(truth))


def dump_truth(truth):
    """Pretty-printed JSON with one word per line (keeps the files readable and diffs small)."""
    out = ['{"source": %s, "pages": [' % json.dumps(truth["source"])]
    for pi, p in enumerate(truth["pages"]):
        head = {k: v for k, v in p.items() if k != "words"}
        out.append("  " + json.dumps(head)[:-1] + ', "words": [')
        for wi, w in enumerate(p["words"]):
            out.append("    " + json.dumps(w, ensure_ascii=False) + ("," if wi + 1 < len(p["words"]) else ""))
        out.append("  ]}" + ("," if pi + 1 < len(truth["pages"]) else ""))
    out.append("]}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# 1. Invoice: Helvetica, bold 20 pt title, addresses, a table of items with amounts, totals.


def invoice():
    rng = random.Random(2026)
    d = Doc("invoice", A4, "Invoice INV-2026-0417")
    p = d.page()
    H, HB = "Helvetica", "Helvetica-Bold"
    left, right = 56.0, 539.0

    p.begin_block()
    p.line_of(left, 70, "INVOICE", HB, 20)

    # Seller (left) is read before the invoice details (right).
    p.begin_block()
    top = 100
    for text in [
        "Northwind Office Supplies Ltd",
        "Unit 4, Riverside Business Park",
        "Leeds LS11 5DR",
        "United Kingdom",
        "VAT No. GB 284 1937 62",
    ]:
        p.line_of(left, top, text, H, 10)
        top += 13
    p.begin_block()
    top = 100
    for label, value in [
        ("Invoice No.", "INV-2026-0417"),
        ("Invoice date:", "21/11/2026"),
        ("Due date:", "21/12/2026"),
        ("Customer ref:", "PO 88213-B"),
    ]:
        p.begin_line()
        p.put(360, top, label, HB, 10)
        p.put_right(right, top, value, H, 10)
        top += 13

    p.begin_block()
    p.line_of(left, 185, "Bill to:", HB, 10)
    top = 198
    for text in ["Harbour & Finch Architects", "Attn: Ms. Clara Okafor", "27 Quayside Road", "Newcastle upon Tyne NE1 3DX"]:
        p.line_of(left, top, text, H, 10)
        top += 13

    # Table: header row, then the item rows as one block.
    cols = {"desc": left, "qty": 330.0, "unit": 440.0, "amount": right}
    p.begin_block()
    p.begin_line()
    top = 280
    p.put(cols["desc"], top, "Description", HB, 10)
    p.put_right(cols["qty"], top, "Qty", HB, 10)
    p.put_right(cols["unit"], top, "Unit price", HB, 10)
    p.put_right(cols["amount"], top, "Amount (GBP)", HB, 10)
    d.c.setLineWidth(0.5)
    d.c.line(left, p.h - top - 5, right, p.h - top - 5)
    items = [
        "A4 copier paper, 80 g/m2, box of 5 reams",
        "Black toner cartridge HP 59A",
        "Ergonomic office chair, mesh back",
        "Whiteboard markers, assorted (pack of 12)",
        "Lever arch files, A4, blue",
        "Desk lamp LED, 8 W, warm white",
        "Shredder bags, 100 litre (roll of 20)",
        "Delivery and installation",
    ]
    p.begin_block()
    subtotal = 0
    top += 18
    for desc in items:
        qty = rng.randint(1, 24) if desc != "Delivery and installation" else 1
        unit = rng.randint(250, 18999) / 100 if desc != "Delivery and installation" else 45.00
        amount = round(qty * unit, 2)
        subtotal += amount
        p.begin_line()
        p.put(cols["desc"], top, desc, H, 10)
        p.put_right(cols["qty"], top, str(qty), H, 10)
        p.put_right(cols["unit"], top, "{:,.2f}".format(unit), H, 10)
        p.put_right(cols["amount"], top, "{:,.2f}".format(amount), H, 10)
        top += 16
    d.c.line(left, p.h - top + 8, right, p.h - top + 8)

    vat = round(subtotal * 0.20, 2)
    p.begin_block()
    top += 8
    for label, value, font in [
        ("Subtotal", subtotal, H),
        ("VAT at 20%", vat, H),
        ("Total due", subtotal + vat, HB),
    ]:
        p.begin_line()
        p.put(360, top, label, font, 10 if font == H else 12)
        p.put_right(right, top, "{:,.2f}".format(value), font, 10 if font == H else 12)
        top += 16

    p.begin_block()
    top += 30
    for text in [
        "Payment terms: 30 days net. Please quote the invoice number with your payment.",
        "Bank: Barclays Bank plc, sort code 20-45-77, account 53917204.",
        "IBAN: GB29 BARC 2045 7753 9172 04, BIC: BARCGB22.",
    ]:
        p.line_of(left, top, text, H, 9)
        top += 12
    p.begin_block()
    p.line_of(left, 800, "Northwind Office Supplies Ltd is registered in England and Wales, company no. 08812345.", H, 8)
    d.save()


# ---------------------------------------------------------------------------------------------
# 2. Two-page report letter: Times-Roman 11 pt, 18 pt heading, paragraphs, bullets, numbers.


def report_letter():
    d = Doc("report-letter", LETTER, "Quarterly facilities review")
    T, TB = "Times-Roman", "Times-Bold"
    left, measure, leading = 72.0, 468.0, 14.0

    p = d.page()
    p.begin_block()
    p.line_of(left, 84, "Quarterly Facilities Review, Q3 2026", TB, 18)
    top = 112
    for text in ["Prepared for: Board of Directors, Calder Valley Housing Trust", "Date: 14 October 2026"]:
        p.begin_block()
        p.line_of(left, top, text, T, 11)
        top += leading
    top += 10
    paras = [
        "Dear members of the Board, this report summarises the state of our buildings at the end of "
        "the third quarter. Overall occupancy rose to 96.4% from 94.8% in June, and the number of open "
        "repair requests fell by a third, from 412 to 275. The heating upgrade at Mill Lane was finished "
        "two weeks ahead of schedule and within its budget of GBP 186,000.",
        "Two matters need your attention. First, the lift at Foundry Court failed its annual inspection "
        "on 2 September and has been out of service since; the manufacturer quotes eleven weeks for the "
        "replacement controller. Second, insurance premiums for 2027 will rise by about 12%, which we "
        "have not yet reflected in the budget.",
    ]
    for text in paras:
        p.begin_block()
        top = p.paragraph(left, top, text, T, 11, measure, leading) + 8
    p.begin_block()
    p.line_of(left, top, "Highlights of the quarter:", TB, 11)
    top += leading + 2
    bullets = [
        "Average time to close a repair request fell from 9.2 to 6.5 working days.",
        "Energy use per home was 7% lower than in Q3 2025, mainly thanks to the new boilers.",
        "Tenant satisfaction in the September survey reached 87%, the highest since 2019; the "
        "main complaints were about parking and the slow response of the out-of-hours line.",
        "All 38 fire risk assessments due this year have been completed and filed.",
    ]
    for text in bullets:
        p.begin_block()
        top = p.item(left + 12, top, "\u2022", text, T, 11, measure - 12, leading, 12) + 4
    top += 6
    paras = [
        "The capital programme for the fourth quarter is unchanged except for the Foundry Court lift. "
        "We propose to bring forward the roof survey at Weaver Street, where two leaks were reported "
        "in August, and to defer the car park resurfacing at Mill Lane to the spring of 2027.",
        "Staffing remained stable. One maintenance officer retired in July and her post was filled "
        "in August; we also took on two apprentices under the regional skills scheme, whose wages "
        "are met in part by a grant of GBP 9,500 a year for two years.",
    ]
    for text in paras:
        p.begin_block()
        top = p.paragraph(left, top, text, T, 11, measure, leading) + 8
    p.begin_block()
    p.line_of(306 - width("Page 1 of 2", T, 9) / 2, 750, "Page 1 of 2", T, 9)

    p = d.page()
    top = 84
    p.begin_block()
    p.line_of(left, top, "Decisions requested", TB, 11)
    top += leading + 2
    p.begin_block()
    top = p.paragraph(left, top, "The Board is asked to approve the following at its meeting on 29 October 2026:", T, 11, measure, leading) + 4
    numbered = [
        "Approve the replacement of the lift controller at Foundry Court at a cost of GBP 42,750, "
        "to be met from the contingency reserve.",
        "Note the expected rise in insurance premiums and ask the Finance Committee to propose a "
        "revised budget by 30 November 2026.",
        "Approve the deferral of the Mill Lane car park works to April 2027.",
        "Agree that the next review will include a report on damp and mould cases, as requested by "
        "the tenants' panel on 18 September.",
    ]
    for i, text in enumerate(numbered, 1):
        p.begin_block()
        top = p.item(left + 12, top, "%d." % i, text, T, 11, measure - 12, leading, 16) + 4
    top += 8
    paras = [
        "Should you have any questions before the meeting, please contact me by e-mail or on "
        "01422 555 0193. The full repair statistics and the inspection reports are available in "
        "the Board portal under Facilities > Reports > 2026.",
        "Thank you for your continued support.",
    ]
    for text in paras:
        p.begin_block()
        top = p.paragraph(left, top, text, T, 11, measure, leading) + 8
    top += 12
    p.begin_block()
    for text in ["Yours sincerely,", "", "", "Daniel Whitcombe", "Head of Facilities"]:
        if text:
            p.line_of(left, top, text, T, 11)
        top += leading
    p.begin_block()
    p.line_of(306 - width("Page 2 of 2", T, 9) / 2, 750, "Page 2 of 2", T, 9)
    d.save()


# ---------------------------------------------------------------------------------------------
# 3. A listing in Courier 10 pt.


def code_listing():
    d = Doc("code-listing", A4, "invoice_export.py")
    C, CB = "Courier", "Courier-Bold"
    p = d.page()
    p.begin_block()
    p.line_of(56, 60, "Listing 3: invoice_export.py (revision 2026-11-02)", CB, 11)
    src = [
        ("#!/usr/bin/env python3",),
        ('"""Exports unpaid invoices older than 30 days to a CSV file."""',),
        None,
        ("import csv",),
        ("import datetime as dt",),
        ("from decimal import Decimal",),
        None,
        ("CUTOFF_DAYS = 30",),
        ('HEADER = ["number", "customer", "issued", "amount", "currency"]',),
        None,
        None,
        ("def overdue(invoices, today=None):",),
        (4, '"""Yields invoices whose due date is more than CUTOFF_DAYS ago."""'),
        (4, "today = today or dt.date.today()"),
        (4, "for inv in invoices:"),
        (8, "if inv.paid:"),
        (12, "continue"),
        (8, "if (today - inv.issued).days > CUTOFF_DAYS:"),
        (12, "yield inv"),
        None,
        None,
        ("def write_csv(path, invoices):",),
        (4, "total = Decimal(\"0.00\")"),
        (4, 'with open(path, "w", newline="") as f:'),
        (8, "out = csv.writer(f, delimiter=\";\")"),
        (8, "out.writerow(HEADER)"),
        (8, "for inv in overdue(invoices):"),
        (12, "out.writerow([inv.number, inv.customer, inv.issued.isoformat(),"),
        (28, 'f"{inv.amount:.2f}", inv.currency])'),
        (12, "total += inv.amount"),
        (4, "return total"),
        None,
        None,
        ('if __name__ == "__main__":',),
        (4, "import sys"),
        (4, "from ledger import load_invoices # ledger.py, see Listing 2"),
        (4, "rows = load_invoices(sys.argv[1])"),
        (4, 'print("exported", write_csv("overdue.csv", rows), "EUR in total")'),
    ]
    top = 90
    line_no = 0
    # Each source line is a line; a block is a run of lines between blank lines.
    new_block = True
    for entry in src:
        line_no += 1
        if entry is None:
            new_block = True
            top += 12
            continue
        if new_block:
            p.begin_block()
            new_block = False
        indent, text = (0, entry[0]) if len(entry) == 1 else entry
        p.begin_line()
        p.put_right(68, top, str(line_no), C, 10)
        p.put(86 + 6 * indent, top, text, C, 10)
        top += 12
    top += 20
    p.begin_block()
    top = p.paragraph(
        56,
        top,
        "Output of a run on 2026-11-02 at 09:14 UTC, against the ledger of 1,204 invoices:",
        C,
        10,
        483,
        12,
    ) + 4
    p.begin_block()
    for text in [
        "$ python3 invoice_export.py ledger-2026-10.db",
        "exported 18734.50 EUR in total",
        "$ wc -l overdue.csv",
        "58 overdue.csv",
        "$ head -3 overdue.csv",
        "number;customer;issued;amount;currency",
        "INV-2026-0311;Harbour & Finch Architects;2026-08-14;1250.00;EUR",
        "INV-2026-0322;Kowalski Bau GmbH;2026-08-19;842.40;EUR",
    ]:
        p.line_of(56, top, text, C, 10)
        top += 12
    d.save()


# ---------------------------------------------------------------------------------------------
# 4. Mixed sizes 8-24 pt, with bold and italic words inside running text.


def mixed_sizes():
    d = Doc("mixed-sizes", A4, "Product data sheet")
    H, HB, HO, HBO = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique"
    T, TB, TI, TBI = "Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic"
    p = d.page()
    left = 60.0
    p.begin_block()
    p.line_of(left, 80, "AquaPure 300 Water Filter", HB, 24)
    p.begin_block()
    p.line_of(left, 104, "Product data sheet, edition 4.1, valid from 1 January 2027", TI, 14)

    p.begin_block()
    top = 140
    p.runs(left, top, [("The", H, 11), ("AquaPure 300", HB, 11), ("removes up to 99.9% of lead, chlorine and microplastics", H, 11)])
    top += 15
    p.runs(left, top, [("from mains water. The cartridge lasts", H, 11), ("six months", HO, 11), ("or 1,500 litres, whichever", H, 11)])
    top += 15
    p.runs(left, top, [("comes first. Replace it when the indicator turns", H, 11), ("red", HB, 11), ("(see section 3).", H, 11)])

    p.begin_block()
    top += 30
    p.line_of(left, top, "1. Technical data", HB, 16)
    top += 24
    p.begin_block()
    rows = [
        ("Flow rate", "2.5 l/min at 3 bar"),
        ("Operating pressure", "1.5 - 6.0 bar (22 - 87 psi)"),
        ("Water temperature", "4 - 30 °C"),
        ("Dimensions (H x W x D)", "310 x 120 x 95 mm"),
        ("Weight, empty", "1.2 kg"),
        ("Certification", "NSF/ANSI 42 and 53, WRAS approved"),
    ]
    for label, value in rows:
        p.begin_line()
        p.put(left, top, label, H, 10)
        p.put(240, top, value, HB, 10)
        top += 14

    p.begin_block()
    top += 20
    p.line_of(left, top, "2. What our customers say", HB, 16)
    top += 30
    p.begin_block()
    p.line_of(left + 20, top, "\"Fitted in twenty minutes, and the tea tastes better.\"", TBI, 20)
    top += 22
    p.begin_block()
    p.line_of(left + 20, top, "Zoë Müller, café owner in Bremen", TI, 12)

    p.begin_block()
    top += 40
    p.line_of(left, top, "3. Maintenance", HB, 16)
    top += 22
    p.begin_block()
    p.runs(left, top, [("Turn off the water supply before you change the cartridge. Twist the old cartridge", T, 12)])
    top += 16
    p.runs(left, top, [("a quarter turn", TB, 12), ("to the left and pull it down; insert the new one and turn it", T, 12)])
    top += 16
    p.runs(left, top, [("to the right until it clicks. Run the tap for", T, 12), ("at least two minutes", TI, 12), ("before drinking.", T, 12)])
    top += 16
    p.runs(left, top, [("Order code for replacement cartridges:", T, 12), ("AP-300-RC", "Courier-Bold", 12), ("(pack of two, EUR 39.90).", T, 12)])

    p.begin_block()
    top += 40
    p.runs(left, top, [("Warning:", HBO, 9), ("do not use with water that is microbiologically unsafe or of unknown quality without adequate", H, 9)])
    top += 11
    p.line_of(left, top, "disinfection before or after the system. Not suitable for hot water.", H, 9)

    p.begin_block()
    top = 790
    for text in [
        "AquaPure is a trade mark of Clearwell Filtration B.V., Industrieweg 12, 3542 AD Utrecht, The Netherlands.",
        "Specifications may change without notice. Printed 11/2026. Document no. DS-AP300-EN-41.",
    ]:
        p.line_of(left, top, text, H, 8)
        top += 10
    d.save()


# ---------------------------------------------------------------------------------------------
# 5. A two-column newspaper-like page.


def two_columns():
    d = Doc("two-columns", A4, "The Calder Valley Courier")
    T, TB, TI = "Times-Roman", "Times-Bold", "Times-Italic"
    p = d.page()
    left, right_edge, gutter = 50.0, 545.28, 20.0
    col_w = r2((right_edge - left - gutter) / 2)
    col2 = r2(left + col_w + gutter)

    p.begin_block()
    p.begin_line()
    p.put_centred(p.w / 2, 70, "The Calder Valley Courier", TB, 24)
    p.begin_block()
    p.begin_line()
    p.put_centred(p.w / 2, 90, "Friday, 4 December 2026 | No. 12,418 | Price 1.20", TI, 10)
    d.c.setLineWidth(0.8)
    d.c.line(left, p.h - 98, right_edge, p.h - 98)

    def story(x, top, headline, byline, paras):
        p.begin_block()
        for hl in wrap(headline, TB, 15, col_w):
            p.line_of(x, top, hl, TB, 15)
            top += 17
        p.begin_block()
        p.line_of(x, top, byline, TI, 9.5)
        top += 15
        for text in paras:
            p.begin_block()
            top = p.paragraph(x, top, text, T, 10, col_w, 12.5) + 5
        return top + 12

    top = 125
    top = story(
        left,
        top,
        "Council approves new bridge over the Calder",
        "By Priya Raman, local affairs reporter",
        [
            "Councillors voted 31 to 9 on Wednesday night to build a footbridge and cycle bridge "
            "linking Sowerby Bridge station with the canal towpath, ending a debate that has lasted "
            "almost six years.",
            "The bridge will cost an estimated 4.8 million pounds, of which 3.1 million comes from the "
            "regional transport fund. Work is due to start in May 2027 and to finish by the end of 2028.",
            "Opponents argued that the money would be better spent on repairing existing roads. "
            "\"We have potholes on every street in this ward,\" said Cllr. Martin Doyle, who voted "
            "against the plan.",
            "Supporters pointed to a survey in which 68% of residents said they would walk or cycle "
            "to the station if a safe route existed.",
        ],
    )
    top = story(
        left,
        top,
        "Library opening hours extended",
        "Staff reporter",
        [
            "From 1 January the central library will open until 8 pm on Tuesdays and Thursdays, "
            "and from 10 am to 4 pm on Sundays, after a successful trial during the autumn.",
            "Visitor numbers rose by 23% during the trial, with the largest increase among students "
            "preparing for examinations.",
        ],
    )
    top_left = story(
        left,
        top,
        "Rugby club appeals for volunteers",
        "By Sam Oduya",
        [
            "Sowerby Bridge RUFC needs at least twelve volunteers to run its junior section next "
            "season, when the number of registered players under 16 is expected to pass 180.",
            "Coaching courses are paid for by the club, and no experience is required. Anyone "
            "interested can call the club secretary on 01422 555 0847 or attend the open evening "
            "on Thursday, 10 December, at 7.30 pm.",
        ],
    )
    top = 125
    top = story(
        col2,
        top,
        "Mill owner's archive donated to museum",
        "By Tom Ashworth",
        [
            "More than 4,000 letters, ledgers and photographs belonging to the Crossley family, who "
            "ran Dean Clough Mills for over a century, have been given to the town museum.",
            "The collection includes wage books from 1851 to 1938 and the correspondence of Louisa "
            "Crossley, who managed the mills' welfare fund during the First World War.",
            "\"It is a remarkable record of working life in the valley,\" said the museum's curator, "
            "Dr. Helen Baptiste. The papers will be catalogued over the next eighteen months and made "
            "available to researchers from the summer of 2028.",
        ],
    )
    top = story(
        col2,
        top,
        "Weekend weather",
        "Forecast supplied by the Met Office",
        [
            "Saturday will be dry and bright with light winds and a high of 7 °C. Rain will spread "
            "from the west on Sunday afternoon, heavy at times over the hills, with 15 to 25 mm "
            "expected above 300 metres.",
            "Sunrise 08:07, sunset 15:49. Frost is likely in sheltered valleys on Saturday night.",
        ],
    )
    top_right = story(
        col2,
        top,
        "Business in brief",
        "Compiled by the business desk",
        [
            "Hebden Foods has opened a second bakery on Albert Road, creating 35 jobs. The company "
            "reported sales of 12.6 million pounds for the year to March, up 9% on the year before.",
            "The Halifax branch of Northern Savings will close on 26 February 2027. Customers can use "
            "the post office on Market Street for deposits and withdrawals of up to 2,000 pounds.",
        ],
    )
    d.c.line(left + col_w + gutter / 2, p.h - 110, left + col_w + gutter / 2, p.h - max(top_left, top_right) + 10)
    d.save()


# ---------------------------------------------------------------------------------------------
# 6. Three pages, each with different text (the tests also turn it into a 3-page TIFF).


def three_pages():
    d = Doc("three-pages", A4, "Service agreement SA-2026-071")
    H, HB = "Helvetica", "Helvetica-Bold"
    left, measure, leading = 64.0, 467.0, 15.0

    def footer(p, n):
        p.begin_block()
        p.line_of(left, 800, "Service agreement SA-2026-071", H, 8)
        p.put_right(531.28, 800, "Page %d of 3" % n, H, 8)

    def clauses(p, top, items):
        for head, text in items:
            p.begin_block()
            p.line_of(left, top, head, HB, 11)
            top += leading + 2
            p.begin_block()
            top = p.paragraph(left, top, text, H, 11, measure, leading) + 10
        return top

    p = d.page()
    p.begin_block()
    p.line_of(left, 90, "SERVICE AGREEMENT", HB, 22)
    p.begin_block()
    p.line_of(left, 116, "Agreement no. SA-2026-071, dated 3 November 2026", H, 12)
    top = 160
    p.begin_block()
    p.line_of(left, top, "Between", HB, 11)
    top += leading + 2
    for party in [
        "Brightline IT Services GmbH, Hafenstrasse 21, 20457 Hamburg, Germany (the \"Provider\"), and",
        "Kowalski Bau GmbH, Lindenallee 5, 50968 Köln, Germany (the \"Customer\").",
    ]:
        p.begin_block()
        top = p.paragraph(left, top, party, H, 11, measure, leading) + 6
    top += 12
    top = clauses(
        p,
        top,
        [
            (
                "1. Scope of services",
                "The Provider shall operate and monitor the Customer's servers, network and backup "
                "systems listed in Schedule A, install security updates within 14 days of their "
                "release, and answer support requests from the Customer's staff on working days "
                "between 08:00 and 18:00 CET.",
            ),
            (
                "2. Term",
                "This agreement starts on 1 January 2027 and runs for 24 months. It renews for further "
                "periods of 12 months unless either party gives written notice at least 90 days before "
                "the end of the current period.",
            ),
        ],
    )
    footer(p, 1)

    p = d.page()
    top = 80
    top = clauses(
        p,
        top,
        [
            (
                "3. Service levels",
                "The Provider shall respond to a critical incident within 1 hour and restore service "
                "within 8 hours. For every full hour beyond that, the monthly fee is reduced by 2%, up to "
                "a maximum reduction of 25% in any month.",
            ),
            (
                "4. Fees and payment",
                "The Customer shall pay the monthly fee set out in Schedule B within 30 days of the "
                "invoice date. Work outside the scope of this agreement is charged at EUR 95.00 per hour "
                "for engineers and EUR 135.00 per hour for consultants, billed in units of 15 minutes.",
            ),
            (
                "5. Data protection",
                "The Provider processes personal data only on the Customer's documented instructions "
                "and in accordance with the data processing agreement attached as Schedule C. Backups "
                "are stored encrypted in data centres located in the European Union.",
            ),
            (
                "6. Liability",
                "Neither party is liable for indirect or consequential loss. Each party's total "
                "liability in any contract year is limited to the fees paid in the twelve months before "
                "the event giving rise to the claim, except in cases of intent or gross negligence.",
            ),
            (
                "7. Governing law",
                "This agreement is governed by the laws of the Federal Republic of Germany. The courts "
                "of Hamburg have exclusive jurisdiction.",
            ),
        ],
    )
    footer(p, 2)

    p = d.page()
    p.begin_block()
    p.line_of(left, 80, "Schedule B: Fees", HB, 14)
    top = 112
    p.begin_block()
    p.begin_line()
    p.put(left, top, "Service", HB, 10)
    p.put_right(400, top, "Units", HB, 10)
    p.put_right(531.28, top, "EUR per month", HB, 10)
    top += 16
    p.begin_block()
    for svc, units, fee in [
        ("Server monitoring and patching", "12", "1,080.00"),
        ("Workstation support", "45", "1,237.50"),
        ("Backup service, 4 TB", "1", "320.00"),
        ("Firewall management", "2", "190.00"),
        ("Quarterly security review", "1", "450.00"),
    ]:
        p.begin_line()
        p.put(left, top, svc, H, 10)
        p.put_right(400, top, units, H, 10)
        p.put_right(531.28, top, fee, H, 10)
        top += 15
    p.begin_block()
    p.begin_line()
    top += 4
    p.put(left, top, "Total per month (excl. VAT)", HB, 10)
    p.put_right(531.28, top, "3,277.50", HB, 10)
    top += 50
    p.begin_block()
    top = p.paragraph(left, top, "Signed for and on behalf of the parties:", H, 11, measure, leading) + 40
    # Two signature blocks side by side: left one is read first.
    d.c.setLineWidth(0.5)
    for x, lines in [
        (left, ["Brightline IT Services GmbH", "Anna Lindqvist, Managing Director", "Hamburg, 3 November 2026"]),
        (320.0, ["Kowalski Bau GmbH", "Piotr Kowalski, Owner", "Köln, 5 November 2026"]),
    ]:
        d.c.line(x, p.h - top + 14, x + 190, p.h - top + 14)
        p.begin_block()
        t = top
        for text in lines:
            p.line_of(x, t, text, H, 10)
            t += 13
    footer(p, 3)
    d.save()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for make in [invoice, report_letter, code_listing, mixed_sizes, two_columns, three_pages]:
        make()
