#!/bin/sh
# Rebuilds the layout-quality corpus in this folder: PDFs and their word-box truth
# (NAME.truth.json), then checks the truth against poppler's word boxes.
# Needs: python3 with reportlab (pip install reportlab), poppler-utils (pdftotext).
# PYTHON may name another interpreter (a venv's), e.g. PYTHON=/tmp/venv/bin/python ./build.sh
set -eu
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
rm -rf corpus && mkdir corpus
"$PYTHON" make_corpus.py corpus
ls -l corpus
"$PYTHON" check_truth.py corpus
