"""Builds the thumbnail-fidelity corpus: first pages of the kinds of PDFs people upload,
from several producers (reportlab, ghostscript's ps2pdf, cairo via pdftocairo, qpdf).
Run by ./build.sh; needs reportlab and Pillow (PyPI), ghostscript, poppler-utils, qpdf.
Deterministic enough to rebuild: fixed seeds, fixed dates where the tool allows."""

import io
import os
import random
import subprocess
import sys

from PIL import Image, ImageDraw, ImageFilter
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, letter, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
random.seed(7)
LOREM = (
    "The parties agree that the supplier shall deliver the goods described in the annex "
    "within thirty days of the order, and that payment is due within thirty days of the "
    "invoice date. Late payment bears interest at the statutory rate. "
)


def path(name):
    return os.path.join(OUT, name)


def new_canvas(name, size=A4):
    c = canvas.Canvas(path(name), pagesize=size, invariant=1)
    c.setCreator("docintel corpus")
    return c


def invoice():
    c = new_canvas("rl-invoice.pdf")
    w, h = A4
    c.setFont("Helvetica-Bold", 24)
    c.drawString(2 * cm, h - 3 * cm, "INVOICE 2026-117")
    c.setFont("Helvetica", 11)
    for i, line in enumerate(["ACME Supplies Ltd", "12 High Street", "Leeds LS1 4AB", "VAT GB123456789"]):
        c.drawString(2 * cm, h - 4.2 * cm - i * 14, line)
    c.drawRightString(w - 2 * cm, h - 4.2 * cm, "Date: 2026-11-21")
    c.setFillColor(colors.HexColor("#dde6f0"))
    c.rect(2 * cm, h - 9 * cm, w - 4 * cm, 18, fill=1, stroke=0)
    c.setFillColor(colors.black)
    c.setFont("Helvetica-Bold", 10)
    for x, t in [(2.2, "Item"), (11, "Qty"), (13, "Unit"), (16, "Amount")]:
        c.drawString(x * cm, h - 9 * cm + 5, t)
    c.setFont("Helvetica", 10)
    for r in range(12):
        y = h - 9.7 * cm - r * 16
        c.drawString(2.2 * cm, y, f"Widget model {r + 1:02d}, anodised aluminium")
        c.drawString(11 * cm, y, str(r + 2))
        c.drawString(13 * cm, y, f"{12.5 + r:.2f}")
        c.drawString(16 * cm, y, f"{(r + 2) * (12.5 + r):.2f}")
        c.line(2 * cm, y - 4, w - 2 * cm, y - 4)
    c.setFont("Helvetica-Bold", 14)
    c.drawRightString(w - 2 * cm, h - 17 * cm, "Total due: 1,250.00 EUR")
    c.save()


def letter_times():
    doc = SimpleDocTemplate(path("rl-letter-times.pdf"), pagesize=letter, invariant=1)
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontName = "Times-Roman"
    body.fontSize = 11
    story = [Paragraph("Dear Ms. Okafor,", body), Spacer(1, 12)]
    for i in range(9):
        story.append(Paragraph(LOREM * (2 + i % 3), body))
        story.append(Spacer(1, 8))
    story.append(Paragraph("Yours sincerely,<br/><b>J. Martins</b>", body))
    doc.build(story)


def ttf_dejavu():
    pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont("DejaVuB", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"))
    c = new_canvas("rl-truetype-accents.pdf")
    w, h = A4
    c.setFont("DejaVuB", 20)
    c.drawString(2 * cm, h - 3 * cm, "Lebenslauf — Zoë Ångström-Müller")
    c.setFont("DejaVu", 11)
    lines = [
        "Études : Université de Montréal, maîtrise en génie électrique (2014–2016)",
        "Expérience : ingénieure système chez Škoda Transportation, Plzeň",
        "Sprachen: Deutsch, Français, Español, Čeština, Ελληνικά (Grundkenntnisse)",
        "Compétences : Python, Rust, traitement du signal, gestion de projet",
        "Adresse : Straße der Einheit 7, 04109 Leipzig — Tél. +49 341 555 0199",
    ]
    for i, line in enumerate(lines * 4):
        c.drawString(2 * cm, h - 4.5 * cm - i * 18, line)
    c.save()


def type1_embedded():
    folder = os.path.join(os.path.dirname(pdfmetrics.__file__), "..", "fonts")
    face = pdfmetrics.EmbeddedType1Face(os.path.join(folder, "DarkGardenMK.afm"), os.path.join(folder, "DarkGardenMK.pfb"))
    pdfmetrics.registerTypeFace(face)
    pdfmetrics.registerFont(pdfmetrics.Font("DarkGarden", "DarkGardenMK", "WinAnsiEncoding"))
    c = new_canvas("rl-type1-embedded.pdf", letter)
    w, h = letter
    c.setFont("DarkGarden", 40)
    c.drawString(1 * 72, h - 1.5 * 72, "A Garden Party")
    c.setFont("DarkGarden", 16)
    for i in range(20):
        c.drawString(1 * 72, h - 2.5 * 72 - i * 24, "You are invited to an evening among the roses, number %d" % i)
    c.save()


def cjk():
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    c = new_canvas("rl-cjk-unembedded.pdf")
    w, h = A4
    c.setFont("STSong-Light", 22)
    c.drawString(2 * cm, h - 3 * cm, "发票 — 上海贸易有限公司")
    c.setFont("STSong-Light", 12)
    for i in range(12):
        c.drawString(2 * cm, h - 4.5 * cm - i * 20, "第%d项：办公用品，数量十件，单价人民币五十元。" % (i + 1))
    c.setFont("HeiseiMin-W3", 14)
    for i in range(6):
        c.drawString(2 * cm, h - 14 * cm - i * 20, "請求書 東京都千代田区 株式会社サンプル %d" % i)
    c.save()


def chart():
    c = new_canvas("rl-vector-charts.pdf", landscape(A4))
    w, h = landscape(A4)
    d = Drawing(380, 260)
    bc = VerticalBarChart()
    bc.x, bc.y, bc.width, bc.height = 40, 30, 320, 200
    bc.data = [[13, 5, 20, 22, 37, 45], [14, 6, 21, 23, 38, 46]]
    bc.bars[0].fillColor = colors.HexColor("#1f77b4")
    bc.bars[1].fillColor = colors.HexColor("#ff7f0e")
    bc.categoryAxis.categoryNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]
    d.add(bc)
    renderPDF.draw(d, c, 30, h - 330)
    d = Drawing(300, 260)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 40, 20, 200, 200
    pie.data = [10, 20, 30, 40]
    pie.labels = ["North", "South", "East", "West"]
    for i, col in enumerate(["#2ca02c", "#d62728", "#9467bd", "#8c564b"]):
        pie.slices[i].fillColor = colors.HexColor(col)
    d.add(pie)
    renderPDF.draw(d, c, 450, h - 330)
    c.setLineWidth(3)
    c.setDash(6, 3)
    c.bezier(40, 120, 200, 250, 500, -50, 800, 150)
    c.setDash()
    c.linearGradient(40, 20, 800, 90, (colors.white, colors.HexColor("#336699")), extend=False)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(40, h - 40, "Quarterly sales by region")
    c.save()


def photo_image():
    img = Image.new("RGB", (800, 560))
    px = img.load()
    for y in range(560):
        for x in range(800):
            px[x, y] = (int(90 + 120 * x / 800), int(140 + 80 * y / 560), int(200 - 100 * y / 560))
    d = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = random.randint(0, 800), random.randint(0, 560), random.randint(10, 60)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(random.randint(0, 255), random.randint(60, 200), random.randint(0, 120)))
    img = img.filter(ImageFilter.GaussianBlur(2))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    buf.seek(0)
    c = new_canvas("rl-photo-report.pdf")
    w, h = A4
    c.setFont("Helvetica-Bold", 18)
    c.drawString(2 * cm, h - 2.5 * cm, "Site inspection report")
    c.drawImage(ImageReader(buf), 2 * cm, h - 15 * cm, width=w - 4 * cm, height=(w - 4 * cm) * 0.7)
    c.setFont("Helvetica", 10)
    for i in range(10):
        c.drawString(2 * cm, h - 16.5 * cm - i * 14, "Figure 1: the east wall after the storm; observation %d noted." % i)
    c.save()


def scan():
    img = Image.new("L", (1240, 1754), 245)
    d = ImageDraw.Draw(img)
    for i in range(40):
        d.text((120, 120 + i * 38), "This is a scanned page of a typed letter, line %d, with some words." % i, fill=30)
    img = img.rotate(0.8, fillcolor=245).filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.effect_noise(img.size, 12)
    img = Image.blend(img, noise, 0.08)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=45)
    buf.seek(0)
    c = new_canvas("rl-scan-jpeg.pdf")
    w, h = A4
    c.drawImage(ImageReader(buf), 0, 0, width=w, height=h)
    c.save()


def rotated():
    c = new_canvas("rl-rotated-90.pdf")
    w, h = A4
    c.setPageRotation(90)
    c.setFont("Helvetica-Bold", 28)
    c.drawString(2 * cm, h - 3 * cm, "Rotated page")
    c.setFont("Courier", 11)
    for i in range(30):
        c.drawString(2 * cm, h - 4.5 * cm - i * 15, "row %02d | 2026-11-%02d | %8.2f EUR" % (i, 1 + i % 28, i * 37.5))
    c.rect(1.5 * cm, 1.5 * cm, w - 3 * cm, h - 3 * cm)
    c.save()


def landscape_table():
    doc = SimpleDocTemplate(path("rl-landscape-table.pdf"), pagesize=landscape(letter), invariant=1)
    data = [["Employee", "Dept", "Start", "Salary", "Rating"]] + [
        ["Person %d" % i, ["Sales", "R&D", "Ops"][i % 3], "2020-0%d-1%d" % (1 + i % 9, i % 9), "%d" % (40000 + 1234 * i), "★" * (1 + i % 5)]
        for i in range(22)
    ]
    t = Table(data)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#333333")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eeeeee")]),
            ]
        )
    )
    doc.build([t])


def form():
    c = new_canvas("rl-acroform.pdf", letter)
    w, h = letter
    c.setFont("Helvetica-Bold", 20)
    c.drawString(72, h - 72, "Application form")
    c.setFont("Helvetica", 12)
    form = c.acroForm
    for i, label in enumerate(["Full name", "Email", "Phone", "Address"]):
        y = h - 130 - i * 50
        c.drawString(72, y + 5, label + ":")
        form.textfield(name=label, x=180, y=y, width=300, height=22, value="Jane Example" if i == 0 else "", borderColor=colors.black, fillColor=colors.HexColor("#f4f4ff"))
    for i, label in enumerate(["I agree to the terms", "Send me news"]):
        y = h - 360 - i * 30
        form.checkbox(name="cb%d" % i, x=72, y=y, size=16, checked=i == 0, buttonStyle="check")
        c.drawString(100, y + 3, label)
    c.save()


def transparency():
    c = new_canvas("rl-transparency.pdf")
    w, h = A4
    for i, col in enumerate([colors.red, colors.green, colors.blue]):
        c.setFillColor(col)
        c.setFillAlpha(0.5)
        c.circle(w / 2 + (i - 1) * 70, h / 2 + (40 if i == 1 else 0), 110, fill=1, stroke=0)
    c.setFillAlpha(1)
    c.setFillColor(colors.black)
    c.setFont("Helvetica-Bold", 30)
    c.drawCentredString(w / 2, h - 4 * cm, "Overlapping translucent circles")
    c.save()


for make in [invoice, letter_times, ttf_dejavu, type1_embedded, cjk, chart, photo_image, scan, rotated, landscape_table, form, transparency]:
    make()
