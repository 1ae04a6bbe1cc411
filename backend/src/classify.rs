//! The document classifier: multinomial naive Bayes over word unigrams and bigrams, with
//! a temperature fitted on held-out data so that its confidence means something (of the
//! documents it labels with confidence 0.9, about nine in ten are right).
//!
//! The model file stores raw counts (integers, in sorted maps), so training is exactly
//! reproducible and the shipped `models/default.json` is checked against the corpus.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The shipped model, trained on `models/corpus` by `docintel model train`.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../models/default.json");

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("not a docintel model: {0}")]
    Format(String),
    #[error("no labelled documents under {0} (expected DIR/<label>/*.txt)")]
    Empty(String),
}

/// What is stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: u32,
    pub version: String,
    pub labels: Vec<String>,
    /// Training documents per label.
    pub doc_counts: Vec<u64>,
    /// Occurrences of each token per label.
    pub token_counts: BTreeMap<String, Vec<u64>>,
    /// Softmax temperature fitted on held-out documents.
    pub temperature: f64,
    /// Accuracy on the held-out split at training time.
    pub held_out_accuracy: f64,
}

/// A loaded model, ready to classify.
#[derive(Debug, Clone)]
pub struct Model {
    pub version: String,
    pub labels: Vec<String>,
    log_prior: Vec<f64>,
    log_likelihood: HashMap<String, Vec<f64>>,
    temperature: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: String,
    pub confidence: f64,
    pub model_version: String,
}

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

/// Documents whose file name hashes to 0 mod 5 form the held-out split (20%).
pub fn is_held_out(name: &str) -> bool {
    Sha256::digest(name.as_bytes())[0] % 5 == 0
}

/// One labelled document of a corpus.
#[derive(Debug, Clone)]
pub struct Example {
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

fn count(examples: &[&Example], labels: &[String]) -> (Vec<u64>, BTreeMap<String, Vec<u64>>) {
    let mut docs = vec![0u64; labels.len()];
    let mut counts: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut doc_freq: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (n, ex) in examples.iter().enumerate() {
        let Some(li) = labels.iter().position(|l| *l == ex.label) else {
            continue;
        };
        docs[li] += 1;
        for tok in tokenize(&ex.text) {
            counts
                .entry(tok.clone())
                .or_insert_with(|| vec![0; labels.len()])[li] += 1;
            doc_freq.entry(tok).or_default().insert(n);
        }
    }
    // Tokens seen in a single document are noise (names, ids), not evidence.
    counts.retain(|tok, _| doc_freq.get(tok).is_some_and(|d| d.len() >= 2));
    (docs, counts)
}

impl Model {
    pub fn from_file(file: ModelFile) -> Result<Self, ModelError> {
        let n = file.labels.len();
        if n == 0 || file.doc_counts.len() != n || file.token_counts.values().any(|c| c.len() != n)
        {
            return Err(ModelError::Format("label counts do not match".into()));
        }
        if !(file.temperature.is_finite() && file.temperature > 0.0) {
            return Err(ModelError::Format("temperature must be positive".into()));
        }
        let total_docs: u64 = file.doc_counts.iter().sum();
        let vocab = file.token_counts.len() as f64;
        let mut totals = vec![0u64; n];
        for c in file.token_counts.values() {
            for (t, v) in totals.iter_mut().zip(c) {
                *t += v;
            }
        }
        // Laplace smoothing.
        let denom: Vec<f64> = totals.iter().map(|t| *t as f64 + vocab + 1.0).collect();
        let log_likelihood = file
            .token_counts
            .iter()
            .map(|(tok, c)| {
                let lp = c
                    .iter()
                    .zip(&denom)
                    .map(|(v, d)| ((*v as f64 + 1.0) / d).ln())
                    .collect();
                (tok.clone(), lp)
            })
            .collect();
        Ok(Self {
            version: file.version,
            log_prior: file
                .doc_counts
                .iter()
                .map(|d| ((*d as f64 + 1.0) / (total_docs as f64 + n as f64)).ln())
                .collect(),
            labels: file.labels,
            log_likelihood,
            temperature: file.temperature,
        })
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let json = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&json)
    }

    pub fn parse(json: &str) -> Result<Self, ModelError> {
        let file: ModelFile =
            serde_json::from_str(json).map_err(|e| ModelError::Format(e.to_string()))?;
        Self::from_file(file)
    }

    /// The shipped default model.
    pub fn default_model() -> Result<Self, ModelError> {
        Self::parse(DEFAULT_MODEL_JSON)
    }

    fn scores(&self, text: &str) -> Vec<f64> {
        let mut scores = self.log_prior.clone();
        for tok in tokenize(text) {
            // Unknown tokens shift every label alike; skipping them changes nothing.
            if let Some(lp) = self.log_likelihood.get(&tok) {
                for (s, l) in scores.iter_mut().zip(lp) {
                    *s += l;
                }
            }
        }
        scores
    }

    fn probabilities(scores: &[f64], temperature: f64) -> Vec<f64> {
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores
            .iter()
            .map(|s| ((s - max) / temperature).exp())
            .collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }

    /// The most likely label and its calibrated probability; `None` for text with no
    /// known word (nothing to base a guess on).
    pub fn classify(&self, text: &str) -> Option<Prediction> {
        if !tokenize(text)
            .iter()
            .any(|t| self.log_likelihood.contains_key(t))
        {
            return None;
        }
        let p = Self::probabilities(&self.scores(text), self.temperature);
        let (best, conf) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, c)| (i, *c))?;
        Some(Prediction {
            label: self.labels[best].clone(),
            confidence: conf,
            model_version: self.version.clone(),
        })
    }
}

fn nll(model: &Model, examples: &[&Example], t: f64) -> f64 {
    examples
        .iter()
        .map(|ex| {
            let p = Model::probabilities(&model.scores(&ex.text), t);
            let i = model
                .labels
                .iter()
                .position(|l| *l == ex.label)
                .unwrap_or(0);
            -(p[i].max(1e-12)).ln()
        })
        .sum()
}

fn file_from(examples: &[&Example], labels: &[String], temperature: f64) -> ModelFile {
    let (doc_counts, token_counts) = count(examples, labels);
    ModelFile {
        format: 1,
        version: String::new(),
        labels: labels.to_vec(),
        doc_counts,
        token_counts,
        temperature,
        held_out_accuracy: 0.0,
    }
}

/// Trains on the training split of `corpus`, fits the temperature on a slice of it,
/// and measures accuracy on the held-out split.
pub fn train(corpus: &[Example]) -> Result<ModelFile, ModelError> {
    let labels: Vec<String> = corpus
        .iter()
        .map(|e| e.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (held, train): (Vec<&Example>, Vec<&Example>) =
        corpus.iter().partition(|e| is_held_out(&e.name));
    // Temperature: fit on every 4th training document, with a model of the others.
    let calib: Vec<&Example> = train.iter().step_by(4).copied().collect();
    let fit: Vec<&Example> = train
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 4 != 0)
        .map(|(_, e)| *e)
        .collect();
    let provisional = Model::from_file(file_from(&fit, &labels, 1.0))?;
    let temperature = (0..=60)
        .map(|i| 1.25f64.powi(i))
        .min_by(|a, b| nll(&provisional, &calib, *a).total_cmp(&nll(&provisional, &calib, *b)))
        .unwrap_or(1.0);

    let mut file = file_from(&train, &labels, temperature);
    let model = Model::from_file(file.clone())?;
    let correct = held
        .iter()
        .filter(|e| model.classify(&e.text).is_some_and(|p| p.label == e.label))
        .count();
    file.held_out_accuracy = if held.is_empty() {
        0.0
    } else {
        (correct as f64 / held.len() as f64 * 10_000.0).round() / 10_000.0
    };
    let digest =
        Sha256::digest(serde_json::to_vec(&file).map_err(|e| ModelError::Format(e.to_string()))?);
    file.version = format!("nb-1-{}", hex::encode(&digest[..4]));
    Ok(file)
}

/// Accuracy and confusion matrix (`matrix[actual][predicted]`, last column = no guess),
/// and how sure the model was of each answer it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub labels: Vec<String>,
    pub total: usize,
    pub correct: usize,
    pub matrix: Vec<Vec<usize>>,
    pub outcomes: Vec<Outcome>,
}

/// One answer: the confidence it came with, and whether it was right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub confidence: f64,
    pub correct: bool,
}

/// The answers whose confidence fell in `[lower, upper)` (the last bin includes 1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Mean confidence of the answers in the bin.
    pub confidence: f64,
    /// The share of them that were right.
    pub accuracy: f64,
}

impl Evaluation {
    /// The mean over labels of F1 (labels that occur in the evaluation set).
    pub fn macro_f1(&self) -> f64 {
        let n = self.labels.len();
        let mut sum = 0.0;
        let mut counted = 0;
        for i in 0..n {
            let support: usize = self.matrix[i].iter().sum();
            if support == 0 {
                continue;
            }
            let tp = self.matrix[i][i] as f64;
            let predicted: usize = self.matrix.iter().map(|row| row[i]).sum();
            let precision = if predicted == 0 {
                0.0
            } else {
                tp / predicted as f64
            };
            let recall = tp / support as f64;
            sum += if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            counted += 1;
        }
        if counted == 0 {
            0.0
        } else {
            sum / counted as f64
        }
    }

    /// The answers in `n` equal-width confidence bins (a reliability diagram's bars).
    pub fn bins(&self, n: usize) -> Vec<Bin> {
        let n = n.max(1);
        let mut sums = vec![(0usize, 0.0f64, 0usize); n];
        for o in &self.outcomes {
            let i = ((o.confidence * n as f64) as usize).min(n - 1);
            sums[i].0 += 1;
            sums[i].1 += o.confidence;
            sums[i].2 += usize::from(o.correct);
        }
        sums.into_iter()
            .enumerate()
            .map(|(i, (count, conf, right))| Bin {
                lower: i as f64 / n as f64,
                upper: (i + 1) as f64 / n as f64,
                count,
                confidence: if count == 0 { 0.0 } else { conf / count as f64 },
                accuracy: if count == 0 {
                    0.0
                } else {
                    right as f64 / count as f64
                },
            })
            .collect()
    }

    /// Expected calibration error over 10 bins: how far, weighted by answers, the stated
    /// confidence is from the accuracy it comes with (0 is perfectly calibrated).
    pub fn ece(&self) -> f64 {
        let total = self.outcomes.len();
        if total == 0 {
            return 0.0;
        }
        self.bins(10)
            .iter()
            .map(|b| b.count as f64 / total as f64 * (b.accuracy - b.confidence).abs())
            .sum()
    }

    /// The accuracy of the most confident tenth of the answers (at least one).
    pub fn top_decile_accuracy(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        let mut sorted = self.outcomes.clone();
        sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let k = sorted.len().div_ceil(10);
        sorted[..k].iter().filter(|o| o.correct).count() as f64 / k as f64
    }

    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// A plain-text table for terminals.
    pub fn render(&self) -> String {
        let w = self
            .labels
            .iter()
            .map(|l| l.len())
            .max()
            .unwrap_or(4)
            .max(6);
        let mut s = format!(
            "accuracy {:.4} ({}/{})\nmacro-F1 {:.4}\nECE (10 bins) {:.4}\n\
             accuracy of the most confident 10% {:.4}\n\n{:w$} ",
            self.accuracy(),
            self.correct,
            self.total,
            self.macro_f1(),
            self.ece(),
            self.top_decile_accuracy(),
            "actual\\predicted".chars().take(w).collect::<String>()
        );
        for l in &self.labels {
            s.push_str(&format!("{l:>w$} "));
        }
        s.push_str(&format!("{:>w$}\n", "none"));
        for (i, l) in self.labels.iter().enumerate() {
            s.push_str(&format!("{l:w$} "));
            for c in &self.matrix[i] {
                s.push_str(&format!("{c:>w$} "));
            }
            s.push('\n');
        }
        s
    }
}

pub fn evaluate<'a>(model: &Model, examples: impl IntoIterator<Item = &'a Example>) -> Evaluation {
    let n = model.labels.len();
    let mut matrix = vec![vec![0usize; n + 1]; n];
    let (mut total, mut correct) = (0, 0);
    let mut outcomes = Vec::new();
    for ex in examples {
        let Some(actual) = model.labels.iter().position(|l| *l == ex.label) else {
            continue;
        };
        total += 1;
        let prediction = model.classify(&ex.text);
        let predicted = prediction
            .as_ref()
            .and_then(|p| model.labels.iter().position(|l| *l == p.label))
            .unwrap_or(n);
        if predicted == actual {
            correct += 1;
        }
        if let Some(p) = prediction {
            outcomes.push(Outcome {
                confidence: p.confidence,
                correct: predicted == actual,
            });
        }
        matrix[actual][predicted] += 1;
    }
    Evaluation {
        labels: model.labels.clone(),
        total,
        correct,
        matrix,
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(name: &str, label: &str, text: &str) -> Example {
        Example {
            name: name.into(),
            label: label.into(),
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
    fn a_tiny_model_learns_and_is_confident_where_it_should_be() {
        let mut corpus = Vec::new();
        for i in 0..40 {
            corpus.push(ex(
                &format!("i{i}"),
                "invoice",
                "invoice total due payment terms vat",
            ));
            corpus.push(ex(
                &format!("l{i}"),
                "letter",
                "dear sir yours sincerely regards",
            ));
        }
        let file = train(&corpus).unwrap();
        let m = Model::from_file(file.clone()).unwrap();
        let p = m.classify("please pay the invoice total due").unwrap();
        assert_eq!(p.label, "invoice");
        assert!(p.confidence > 0.9, "{p:?}");
        assert_eq!(
            m.classify("dear sir, yours sincerely").unwrap().label,
            "letter"
        );
        assert!(m.classify("zzz qqq").is_none(), "no known word, no guess");
        assert_eq!(file.held_out_accuracy, 1.0);
        // Mixed evidence gives a less confident answer.
        let mixed = m.classify("invoice dear").unwrap();
        assert!(mixed.confidence < p.confidence);
    }

    fn outcomes(pairs: &[(f64, bool)]) -> Evaluation {
        Evaluation {
            labels: vec!["a".into(), "b".into()],
            total: pairs.len(),
            correct: pairs.iter().filter(|p| p.1).count(),
            matrix: vec![vec![0; 3]; 2],
            outcomes: pairs
                .iter()
                .map(|&(confidence, correct)| Outcome {
                    confidence,
                    correct,
                })
                .collect(),
        }
    }

    #[test]
    fn calibration_measures_the_gap_between_confidence_and_accuracy() {
        // Always sure, right half the time: ECE 0.5.
        let over = outcomes(&[(1.0, true), (1.0, false), (0.99, true), (0.99, false)]);
        assert!((over.ece() - 0.495).abs() < 1e-9, "{}", over.ece());
        // Says 0.75 and is right 3 times in 4, says 0.25 and is right 1 in 4: calibrated.
        let calibrated = outcomes(&[
            (0.75, true),
            (0.75, true),
            (0.75, true),
            (0.75, false),
            (0.25, true),
            (0.25, false),
            (0.25, false),
            (0.25, false),
        ]);
        assert!(calibrated.ece() < 1e-9, "{}", calibrated.ece());
        let bins = calibrated.bins(10);
        assert_eq!((bins[7].count, bins[2].count), (4, 4));
        assert_eq!(bins[7].accuracy, 0.75);
        // The most confident tenth (one answer of 8, rounded up) of `over` is right.
        assert_eq!(over.top_decile_accuracy(), 1.0);
    }

    #[test]
    fn macro_f1_weighs_labels_equally() {
        let mut e = outcomes(&[]);
        // a: 8 right, 2 called b; b: 1 right, 1 called a.
        e.matrix = vec![vec![8, 2, 0], vec![1, 1, 0]];
        let f1_a = 2.0 * (8.0 / 9.0) * 0.8 / (8.0 / 9.0 + 0.8);
        let f1_b = 2.0 * (1.0 / 3.0) * 0.5 / (1.0 / 3.0 + 0.5);
        assert!((e.macro_f1() - (f1_a + f1_b) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn training_is_deterministic() {
        let corpus: Vec<_> = (0..30)
            .flat_map(|i| {
                [
                    ex(&format!("a{i}"), "a", &format!("alpha beta {i}")),
                    ex(&format!("b{i}"), "b", &format!("gamma delta {i}")),
                ]
            })
            .collect();
        assert_eq!(train(&corpus).unwrap(), train(&corpus).unwrap());
    }

    #[test]
    fn broken_model_files_are_refused() {
        assert!(Model::parse("{}").is_err());
        assert!(Model::parse("not json").is_err());
    }

    #[test]
    fn the_default_model_loads() {
        let m = Model::default_model().unwrap();
        assert!(m.version.starts_with("nb-1-"));
        assert_eq!(m.labels.len(), 7);
    }
}
