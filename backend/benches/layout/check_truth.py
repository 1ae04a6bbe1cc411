#!/usr/bin/env python3
"""Checks the truth files against poppler: for every NAME.pdf in the folder given, runs
`pdftotext -bbox-layout NAME.pdf -` and matches each truth word to a poppler word on the same
page with the same text and the highest box IoU (each poppler word used once). Prints per
document the share of truth words matched with IoU >= 0.8, and exits 1 when any document is
below 0.98, has no truth, or when the truth disagrees with the PDF's page count or sizes or is
inconsistent in itself (see structure()). Needs python3 and poppler-utils only.
Usage: check_truth.py CORPUS_DIR"""

import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

MIN_IOU = 0.8
MIN_SHARE = 0.98


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def poppler_pages(pdf):
    """[(width, height, [(text, normalised box)])] per page, as poppler sees them."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", pdf, "-"], check=True, capture_output=True).stdout
    root = ET.fromstring(xml)
    pages = []
    for page in root.iter():
        if page.tag.rsplit("}", 1)[-1] != "page":
            continue
        w, h = float(page.get("width")), float(page.get("height"))
        words = []
        for word in page.iter():
            if word.tag.rsplit("}", 1)[-1] != "word":
                continue
            box = [float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")]
            words.append((word.text or "", [box[0] / w, box[1] / h, box[2] / w, box[3] / h]))
        pages.append((w, h, words))
    return pages


def structure(truth):
    """The truth's own consistency: pages numbered 1.., boxes inside the page and not empty,
    line and block indexes starting at 0 on each page and never going back in reading order."""
    errors = []
    for i, tp in enumerate(truth["pages"], 1):
        if tp["number"] != i:
            errors.append("page %d numbered %r" % (i, tp["number"]))
        line = block = -1
        for w in tp["words"]:
            x0, y0, x1, y1 = w["box"]
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1) or not w["text"] or " " in w["text"]:
                errors.append("page %d word %r box %r" % (i, w["text"], w["box"]))
            if w["line"] not in (line, line + 1) or w["block"] not in (block, block + 1):
                errors.append("page %d word %r: line %d after %d, block %d after %d" % (i, w["text"], w["line"], line, w["block"], block))
            line, block = w["line"], w["block"]
    return errors


def check(pdf, truth_path):
    """(truth words, matched, share, mean IoU of matched, poppler words left over, problems, fatal)"""
    with open(truth_path, encoding="utf-8") as f:
        truth = json.load(f)
    pages = poppler_pages(pdf)
    total = matched = 0
    iou_sum = 0.0
    fatal = structure(truth)
    if len(pages) != len(truth["pages"]):
        fatal.append("page count: poppler %d, truth %d" % (len(pages), len(truth["pages"])))
    problems = []
    extra = 0
    for tp in truth["pages"]:
        n = tp["number"]
        if n > len(pages):
            total += len(tp["words"])
            continue
        pw, ph, pwords = pages[n - 1]
        if abs(pw - tp["width"]) > 0.01 or abs(ph - tp["height"]) > 0.01:
            fatal.append("page %d size: poppler %.2f x %.2f, truth %s x %s" % (n, pw, ph, tp["width"], tp["height"]))
        used = [False] * len(pwords)
        for w in tp["words"]:
            total += 1
            best, best_i = 0.0, -1
            for i, (text, box) in enumerate(pwords):
                if not used[i] and text == w["text"]:
                    v = iou(box, w["box"])
                    if v > best:
                        best, best_i = v, i
            if best >= MIN_IOU:
                used[best_i] = True
                matched += 1
                iou_sum += best
            elif len(problems) < 8:
                problems.append("p%d %r: best IoU %.3f" % (n, w["text"], best))
        extra += used.count(False)
    share = matched / total if total else 0.0
    return total, matched, share, (iou_sum / matched if matched else 0.0), extra, problems, fatal[:8]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    pdfs = sorted(glob.glob(os.path.join(folder, "*.pdf")))
    if not pdfs:
        sys.exit("no PDF in %s" % folder)
    failed = 0
    print("%-20s %6s %7s %7s %8s %9s" % ("document", "words", "matched", "share", "mean IoU", "unmatched"))
    print("%-20s %6s %7s %7s %8s %9s" % ("", "(truth)", "", "", "", "(poppler)"))
    for pdf in pdfs:
        truth_path = pdf[:-4] + ".truth.json"
        name = os.path.basename(pdf)
        if not os.path.exists(truth_path):
            print("%-20s no truth file" % name)
            failed += 1
            continue
        total, matched, share, mean_iou, extra, problems, fatal = check(pdf, truth_path)
        ok = share >= MIN_SHARE and not fatal
        print("%-20s %6d %7d %7.4f %8.4f %9d %s" % (name, total, matched, share, mean_iou, extra, "ok" if ok else "FAIL"))
        for p in fatal + problems:
            print("    " + p)
        failed += not ok
    print("%d of %d documents failed (a pass: share of truth words matched at IoU >= %.1f is at least %.2f, truth consistent)" % (failed, len(pdfs), MIN_IOU, MIN_SHARE))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
