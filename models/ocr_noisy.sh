#!/usr/bin/env bash
# Makes the OCR-noisy part of the held-out set: each models/ocr-sources/<label>/X.txt is
# rendered to a slightly rotated, blurred, speckled scan (ImageMagick) and read back with
# tesseract into models/heldout/<label>/X.txt. The output is committed; rerun only to
# change the sources.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in ocr-sources/*/*.txt; do
    label=$(basename "$(dirname "$src")")
    name=$(basename "$src" .txt)
    mkdir -p "heldout/$label"
    # Folded to page width and drawn 6 lines at a time: Debian's ImageMagick policy forbids
    # label:@file and refuses inline labels longer than about 600 characters. % is
    # ImageMagick's escape character.
    fold -s -w 80 "$src" | split -l 6 - "$tmp/chunk-"
    for chunk in "$tmp"/chunk-*; do
        convert -background white -fill '#222' -font DejaVu-Sans -pointsize 26 \
            label:"$(sed 's/%/%%/g' "$chunk")" "$chunk.png"
    done
    convert "$tmp"/chunk-*.png -background white -gravity west -append \
        -bordercolor white -border 40 \
        -rotate 1.2 -attenuate 0.6 +noise Impulse -blur 0x0.9 -colorspace Gray \
        "$tmp/$name.png"
    rm -f "$tmp"/chunk-*
    tesseract "$tmp/$name.png" "$tmp/$name" >/dev/null 2>&1
    # Tesseract's trailing form feed is not part of the text.
    tr -d '\f' <"$tmp/$name.txt" >"heldout/$label/$name.txt"
    echo "heldout/$label/$name.txt"
done
