//! A page's layout as Markdown: headings, list items and paragraphs where the layout
//! says so clearly, plain paragraphs otherwise. Pages are rendered one at a time, so a
//! long document streams.

use super::{Block, Line, Page};

/// Appends `page` as Markdown to `out`, blocks separated by a blank line.
pub fn render_page(page: &Page, out: &mut String) {
    let body = body_height(page);
    for block in &page.blocks {
        let start = out.len();
        render_block(block, page.height, body, out);
        if out.len() > start {
            out.push_str("\n\n");
        }
    }
}

/// Height of a line of the page's body text: the median of its lines' heights.
fn body_height(page: &Page) -> f32 {
    let mut heights: Vec<f32> = page
        .blocks
        .iter()
        .flat_map(|b| &b.lines)
        .map(|l| line_height(l, page.height))
        .filter(|h| *h > 0.0)
        .collect();
    if heights.is_empty() {
        return 0.0;
    }
    heights.sort_by(f32::total_cmp);
    heights[heights.len() / 2]
}

fn line_height(line: &Line, page_height: f32) -> f32 {
    (line.bbox[3] - line.bbox[1]) * page_height
}

fn words(line: &Line) -> impl Iterator<Item = &str> {
    line.words.iter().map(|w| w.text.as_str())
}

fn render_block(block: &Block, page_height: f32, body: f32, out: &mut String) {
    let Some(first) = block.lines.first() else {
        return;
    };
    let word_count: usize = block.lines.iter().map(|l| l.words.len()).sum();
    let ratio = if body > 0.0 {
        line_height(first, page_height) / body
    } else {
        1.0
    };
    // A heading: a short block in larger type than the page's body.
    if ratio >= 1.25 && block.lines.len() <= 3 && word_count <= 16 {
        let level = if ratio >= 1.8 {
            "#"
        } else if ratio >= 1.4 {
            "##"
        } else {
            "###"
        };
        out.push_str(level);
        out.push(' ');
        push_joined(block.lines.iter().flat_map(words), out);
        return;
    }
    for (i, line) in block.lines.iter().enumerate() {
        let mut ws = words(line).peekable();
        let Some(head) = ws.peek().copied() else {
            continue;
        };
        if crate::pipeline::layout::is_list_marker(head) {
            if i > 0 {
                out.push('\n');
            }
            ws.next();
            if head.ends_with('.') || head.ends_with(')') {
                out.push_str(head.trim_end_matches(')'));
                if head.ends_with(')') {
                    out.push('.');
                }
                out.push(' ');
            } else {
                out.push_str("- ");
            }
        } else if i > 0 {
            // A paragraph's lines join into one; a list item's continuation too.
            out.push(' ');
        } else {
            escape_start(head, out);
        }
        push_joined(ws, out);
    }
}

/// Words joined by single spaces, a line-end hyphen kept as written.
fn push_joined<'a>(ws: impl Iterator<Item = &'a str>, out: &mut String) {
    for (i, w) in ws.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(w);
    }
}

/// A paragraph whose first word Markdown would read as syntax (`#`, `>`, a list marker
/// that is not one here) gets a backslash.
fn escape_start(word: &str, out: &mut String) {
    if word.starts_with(['#', '>', '+', '=', '|', '`']) {
        out.push('\\');
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Unit, Word};
    use super::*;

    /// A line of `words` at `top` with the given height (in page fractions).
    fn line(text: &str, top: f32, height: f32) -> Line {
        let words: Vec<Word> = text
            .split(' ')
            .map(|t| Word {
                text: t.to_owned(),
                bbox: [0.1, top, 0.2, top + height],
                confidence: None,
            })
            .collect();
        Line {
            bbox: [0.1, top, 0.9, top + height],
            words,
        }
    }

    fn block(lines: Vec<Line>) -> Block {
        Block {
            bbox: [0.0; 4],
            lines,
        }
    }

    #[test]
    fn headings_lists_and_paragraphs_come_from_the_layout() {
        let mut page = Page::empty(1, 612.0, 792.0, Unit::Pt, 0);
        let body = 0.015;
        page.blocks = vec![
            block(vec![line("Quarterly report", 0.05, body * 2.0)]),
            block(vec![line("Results", 0.1, body * 1.5)]),
            block(vec![
                line("Sales grew in every", 0.15, body),
                line("region this quarter.", 0.17, body),
            ]),
            block(vec![
                line("• North: 12%", 0.2, body),
                line("• South: 9%", 0.22, body),
            ]),
            block(vec![
                line("1. Hire", 0.25, body),
                line("2) Build", 0.27, body),
            ]),
            block(vec![line("# not a heading", 0.3, body)]),
        ];
        let mut md = String::new();
        render_page(&page, &mut md);
        assert_eq!(
            md,
            "# Quarterly report\n\n## Results\n\nSales grew in every region this quarter.\n\n\
             - North: 12%\n- South: 9%\n\n1. Hire\n2. Build\n\n\\# not a heading\n\n"
        );
    }

    #[test]
    fn a_page_without_words_renders_nothing() {
        let mut md = String::new();
        render_page(&Page::empty(1, 1.0, 1.0, Unit::Px, 0), &mut md);
        assert_eq!(md, "");
    }
}
