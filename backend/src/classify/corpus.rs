//! Labelled documents on disk and the words the classifiers see in them.

use std::collections::BTreeSet;
use std::path::Path;

use super::ModelError;

/// Lower-cased words of 2–30 characters (numbers folded into one token), plus bigrams.
pub fn tokenize(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                "<num>".to_owned()
            } else {
                w.to_lowercase()
            }
        })
        .filter(|w| (2..=30).contains(&w.chars().count()) || w == "<num>")
        .collect();
    let mut out = words.clone();
    out.extend(words.windows(2).map(|p| format!("{}_{}", p[0], p[1])));
    out
}

/// The tokens found in at least two of `documents`: a token seen in a single document is
/// noise (a name, an id), not evidence. Both models learn only these.
pub fn vocabulary<'a>(documents: impl IntoIterator<Item = &'a [String]>) -> BTreeSet<&'a str> {
    let mut seen_once = BTreeSet::new();
    let mut vocabulary = BTreeSet::new();
    for tokens in documents {
        for t in tokens.iter().map(String::as_str).collect::<BTreeSet<_>>() {
            if !seen_once.insert(t) {
                vocabulary.insert(t);
            }
        }
    }
    vocabulary
}

/// One labelled document of a corpus.
#[derive(Debug, Clone)]
pub struct Example {
    /// `<label>/<file name>`.
    pub name: String,
    pub label: String,
    pub text: String,
}

/// Reads `dir/<label>/*.txt`, sorted, so every run sees the same order.
pub fn read_corpus(dir: &Path) -> Result<Vec<Example>, ModelError> {
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| ModelError::Io { path, source }
    };
    let mut out = Vec::new();
    let mut labels: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    labels.sort_by_key(|e| e.file_name());
    for label_dir in labels {
        let label = label_dir.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(label_dir.path())
            .map_err(io(&label_dir.path()))?
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            let text = std::fs::read_to_string(f.path()).map_err(io(&f.path()))?;
            out.push(Example {
                name: format!("{label}/{}", f.file_name().to_string_lossy()),
                label: label.clone(),
                text,
            });
        }
    }
    if out.is_empty() {
        return Err(ModelError::Empty(dir.display().to_string()));
    }
    Ok(out)
}

/// Runs of five consecutive words, for telling copies apart from documents that merely
/// share a vocabulary.
fn shingles(text: &str) -> BTreeSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.windows(5).map(|w| w.join(" ")).collect()
}

/// Pairs `(a, b)` where `b` repeats at least `share` of `a`'s five-word runs: a document
/// copied, whole or in large part, from one set into the other. Used to keep the
/// evaluation set out of training and calibration.
pub fn copies<'a>(a: &'a [Example], b: &'a [Example], share: f64) -> Vec<(&'a str, &'a str)> {
    let b_shingles: Vec<_> = b
        .iter()
        .map(|e| (e.name.as_str(), shingles(&e.text)))
        .collect();
    let mut out = Vec::new();
    for ea in a {
        let sa = shingles(&ea.text);
        if sa.is_empty() {
            continue;
        }
        for (name, sb) in &b_shingles {
            let common = sa.intersection(sb).count();
            if common as f64 >= share * sa.len() as f64 {
                out.push((ea.name.as_str(), *name));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(name: &str, text: &str) -> Example {
        Example {
            name: name.into(),
            label: "x".into(),
            text: text.into(),
        }
    }

    #[test]
    fn tokens_fold_case_numbers_and_add_bigrams() {
        assert_eq!(
            tokenize("Total DUE: 1250 EUR"),
            vec![
                "total",
                "due",
                "<num>",
                "eur",
                "total_due",
                "due_<num>",
                "<num>_eur"
            ]
        );
        assert!(tokenize("a b").is_empty(), "one-letter words are dropped");
    }

    #[test]
    fn copies_are_found_and_shared_words_are_not() {
        let a = [ex(
            "a/1",
            "The tenant shall pay the rent on the first day of each month without deduction.",
        )];
        let edited = [ex(
            "b/1",
            "Preamble. The tenant shall pay the rent on the first day of each month without \
             deduction. Signed.",
        )];
        let reworded = [ex(
            "b/2",
            "Rent is due monthly; the tenant pays it on the first day, with no deductions.",
        )];
        assert_eq!(copies(&a, &edited, 0.5), vec![("a/1", "b/1")]);
        assert!(copies(&a, &reworded, 0.5).is_empty());
    }
}
