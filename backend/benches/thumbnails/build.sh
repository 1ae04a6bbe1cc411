#!/bin/sh
# Rebuilds the thumbnail-fidelity corpus in this folder. Needs: python3 with reportlab
# and Pillow (pip install reportlab), ghostscript (ps2pdf), poppler-utils (pdftocairo), qpdf.
set -eu
cd "$(dirname "$0")"
rm -rf corpus && mkdir corpus
python3 make_corpus.py corpus
# ghostscript: Type 1 fonts embedded, its own content streams.
ps2pdf -dPDFSETTINGS=/printer report.ps corpus/gs-report.pdf
ps2pdf vector.ps corpus/gs-vector-drawing.pdf
# cairo: the same documents rewritten by another producer (CFF/TrueType subsets).
pdftocairo -pdf corpus/rl-letter-times.pdf corpus/cairo-letter.pdf
pdftocairo -pdf corpus/rl-vector-charts.pdf corpus/cairo-charts.pdf
# PDF 1.5 object and cross-reference streams.
qpdf --object-streams=generate --deterministic-id corpus/rl-invoice.pdf corpus/qpdf-object-streams.pdf
# The repository's own fixtures.
cp ../../../governance/src/checks/invoice.pdf corpus/repo-invoice.pdf
cp ../../src/pipeline/warmup.pdf corpus/repo-warmup.pdf
ls -l corpus
