//! The document classifier: which of seven kinds a text is (contract, form, invoice,
//! letter, receipt, report, resume), or [`OTHER`] when it is none of them, with a
//! confidence that means what it says: of the answers given with confidence 0.8, about
//! eight in ten are right.
//!
//! - [`corpus`]: the labelled documents on disk, and the tokens every model sees;
//! - [`logistic`]: the shipped model, multinomial logistic regression;
//! - [`naive_bayes`]: the first model, kept for comparison;
//! - [`eval`]: accuracy, macro-F1 and calibration (ECE) on documents a model was not
//!   built from.
//!
//! Three sets of documents, kept apart (`models/`): the training corpus, a calibration
//! set that fits the softmax temperature, and a held-out set that only measures. `other`
//! is a label like the rest, learned from out-of-scope documents (recipes, code, fiction,
//! news, …) and calibrated with them, not a keyword rule.

pub mod corpus;
pub mod eval;
pub mod logistic;
pub mod naive_bayes;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use corpus::{Example, copies, read_corpus, tokenize, vocabulary};
pub use eval::{Bin, Evaluation, Outcome, evaluate};

/// The shipped model, trained on `models/corpus` and calibrated on `models/calibration`
/// by `docintel model train`.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../../models/default.json");

/// The answer for a document of none of the known kinds.
pub const OTHER: &str = "other";

/// The model file format this build writes.
const FORMAT: u32 = 2;

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

/// Which kind of model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Logistic,
    NaiveBayes,
}

/// The learnt part of a model file, by algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "kebab-case")]
pub enum Params {
    Logistic(logistic::Params),
    NaiveBayes(naive_bayes::Params),
}

/// What is stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: u32,
    /// `lr-2-…` or `nb-2-…`, then the first bytes of the SHA-256 of everything else in
    /// the file: a different model always has a different version.
    pub version: String,
    pub labels: Vec<String>,
    /// Softmax temperature fitted on the calibration set.
    pub temperature: f64,
    pub training_documents: usize,
    pub calibration_documents: usize,
    #[serde(flatten)]
    pub params: Params,
}

/// Format 1 (naive Bayes only, before `other` and the calibration set): still loads.
#[derive(Deserialize)]
struct LegacyFile {
    format: u32,
    version: String,
    labels: Vec<String>,
    doc_counts: Vec<u64>,
    token_counts: std::collections::BTreeMap<String, Vec<u64>>,
    temperature: f64,
}

#[derive(Debug, Clone)]
enum Scorer {
    Logistic(logistic::Scorer),
    NaiveBayes(naive_bayes::Scorer),
}

/// A loaded model, ready to classify.
#[derive(Debug, Clone)]
pub struct Model {
    pub version: String,
    pub labels: Vec<String>,
    temperature: f64,
    scorer: Scorer,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// One of the model's labels; [`OTHER`] for a document of none of the known kinds.
    pub label: String,
    /// Calibrated probability that `label` is right.
    pub confidence: f64,
    pub model_version: String,
}

fn probabilities(scores: &[f64], temperature: f64) -> Vec<f64> {
    let scaled: Vec<f64> = scores.iter().map(|s| s / temperature).collect();
    logistic::softmax(&scaled)
}

impl Model {
    pub fn from_file(file: ModelFile) -> Result<Self, ModelError> {
        let n = file.labels.len();
        if n == 0 {
            return Err(ModelError::Format("no labels".into()));
        }
        if !(file.temperature.is_finite() && file.temperature > 0.0) {
            return Err(ModelError::Format("temperature must be positive".into()));
        }
        let scorer = match &file.params {
            Params::Logistic(p) => Scorer::Logistic(logistic::Scorer::new(p, n)?),
            Params::NaiveBayes(p) => Scorer::NaiveBayes(naive_bayes::Scorer::new(p, n)?),
        };
        Ok(Self {
            version: file.version,
            labels: file.labels,
            temperature: file.temperature,
            scorer,
        })
    }

    pub fn load(path: &std::path::Path) -> Result<Self, ModelError> {
        let json = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&json)
    }

    pub fn parse(json: &str) -> Result<Self, ModelError> {
        let file = match serde_json::from_str::<ModelFile>(json) {
            Ok(file) => file,
            Err(e) => match serde_json::from_str::<LegacyFile>(json) {
                Ok(old) if old.format == 1 => ModelFile {
                    format: 1,
                    version: old.version,
                    labels: old.labels,
                    temperature: old.temperature,
                    training_documents: 0,
                    calibration_documents: 0,
                    params: Params::NaiveBayes(naive_bayes::Params {
                        doc_counts: old.doc_counts,
                        token_counts: old.token_counts,
                    }),
                },
                _ => return Err(ModelError::Format(e.to_string())),
            },
        };
        Self::from_file(file)
    }

    /// The shipped default model.
    pub fn default_model() -> Result<Self, ModelError> {
        Self::parse(DEFAULT_MODEL_JSON)
    }

    /// Uncalibrated scores, one per label; `None` when no word of the text is known.
    fn scores(&self, text: &str) -> Option<Vec<f64>> {
        let tokens = tokenize(text);
        match &self.scorer {
            Scorer::Logistic(s) => s.scores(&tokens),
            Scorer::NaiveBayes(s) => s.scores(&tokens),
        }
    }

    /// The most likely label and its calibrated probability; `None` for text with no
    /// known word (nothing to base an answer on).
    pub fn classify(&self, text: &str) -> Option<Prediction> {
        let p = probabilities(&self.scores(text)?, self.temperature);
        let (best, confidence) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, c)| (i, *c))?;
        Some(Prediction {
            label: self.labels[best].clone(),
            confidence,
            model_version: self.version.clone(),
        })
    }
}

/// The temperature that minimises the calibration set's log loss (1 without one).
/// Calibration documents of a kind the model does not know count as [`OTHER`].
fn fit_temperature(model: &Model, calibration: &[Example]) -> f64 {
    let scored: Vec<(Vec<f64>, usize)> = calibration
        .iter()
        .filter_map(|e| {
            let y = model
                .labels
                .iter()
                .position(|l| *l == e.label)
                .or_else(|| model.labels.iter().position(|l| l == OTHER))?;
            Some((model.scores(&e.text)?, y))
        })
        .collect();
    if scored.is_empty() {
        return 1.0;
    }
    let nll = |t: f64| -> f64 {
        scored
            .iter()
            .map(|(s, y)| -probabilities(s, t)[*y].max(1e-12).ln())
            .sum()
    };
    // A geometric grid from 1/20 to 5,000 in steps of 2%: fine enough that the log loss
    // is flat between neighbours, and exact to reproduce.
    (0..=580)
        .map(|i| 0.05 * 1.02f64.powi(i))
        .min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
        .unwrap_or(1.0)
}

/// Trains on `corpus` (every document) and fits the temperature on `calibration`.
pub fn train(
    corpus: &[Example],
    calibration: &[Example],
    algorithm: Algorithm,
) -> Result<ModelFile, ModelError> {
    let labels: Vec<String> = corpus
        .iter()
        .map(|e| e.label.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if labels.is_empty() {
        return Err(ModelError::Empty("the training corpus".into()));
    }
    let examples: Vec<&Example> = corpus.iter().collect();
    let (params, prefix) = match algorithm {
        Algorithm::Logistic => (Params::Logistic(logistic::fit(&examples, &labels)), "lr"),
        Algorithm::NaiveBayes => (
            Params::NaiveBayes(naive_bayes::fit(&examples, &labels)),
            "nb",
        ),
    };
    let mut file = ModelFile {
        format: FORMAT,
        version: String::new(),
        labels,
        temperature: 1.0,
        training_documents: corpus.len(),
        calibration_documents: calibration.len(),
        params,
    };
    file.temperature = fit_temperature(&Model::from_file(file.clone())?, calibration);
    let digest =
        Sha256::digest(serde_json::to_vec(&file).map_err(|e| ModelError::Format(e.to_string()))?);
    file.version = format!("{prefix}-{FORMAT}-{}", hex::encode(&digest[..4]));
    Ok(file)
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

    /// Two kinds and out-of-scope text, 40 of each, with some shared words.
    fn tiny() -> Vec<Example> {
        let mut corpus = Vec::new();
        for i in 0..40 {
            let n = ["alpha", "beta", "gamma", "delta"][i % 4];
            corpus.push(ex(
                &format!("invoice/{i}"),
                "invoice",
                &format!("invoice {n} total due payment terms vat amount"),
            ));
            corpus.push(ex(
                &format!("letter/{i}"),
                "letter",
                &format!("dear sir {n} yours sincerely regards amount"),
            ));
            corpus.push(ex(
                &format!("other/{i}"),
                OTHER,
                &format!("recipe {n} flour sugar oven bake minutes"),
            ));
        }
        corpus
    }

    #[test]
    fn both_algorithms_learn_the_kinds_and_other() {
        let corpus = tiny();
        for algorithm in [Algorithm::Logistic, Algorithm::NaiveBayes] {
            let file = train(&corpus, &corpus[..30], algorithm).unwrap();
            let m = Model::from_file(file).unwrap();
            let p = m.classify("please pay the invoice total due").unwrap();
            assert_eq!(p.label, "invoice", "{algorithm:?}");
            assert!(p.confidence > 0.5, "{algorithm:?} {p:?}");
            assert_eq!(
                m.classify("dear sir, yours sincerely").unwrap().label,
                "letter"
            );
            assert_eq!(m.classify("bake the flour and sugar").unwrap().label, OTHER);
            assert!(m.classify("zzz qqq").is_none(), "no known word, no answer");
            // Mixed evidence gives a less confident answer.
            let mixed = m.classify("invoice dear").unwrap();
            assert!(mixed.confidence < p.confidence, "{algorithm:?}");
        }
    }

    #[test]
    fn unknown_words_lower_the_logistic_models_confidence() {
        let m = Model::from_file(train(&tiny(), &[], Algorithm::Logistic).unwrap()).unwrap();
        let plain = m.classify("invoice total due").unwrap();
        let diluted = m
            .classify("invoice total due kumquat zebra quasar nebula walrus")
            .unwrap();
        assert!(
            diluted.confidence < plain.confidence,
            "{plain:?} {diluted:?}"
        );
    }

    #[test]
    fn the_version_changes_with_the_model() {
        let corpus = tiny();
        let a = train(&corpus, &[], Algorithm::Logistic).unwrap();
        assert_eq!(
            a,
            train(&corpus, &[], Algorithm::Logistic).unwrap(),
            "deterministic"
        );
        let b = train(&corpus[1..], &[], Algorithm::Logistic).unwrap();
        assert_ne!(a.version, b.version);
        assert!(a.version.starts_with("lr-2-"), "{}", a.version);
        let nb = train(&corpus, &[], Algorithm::NaiveBayes).unwrap();
        assert!(nb.version.starts_with("nb-2-"), "{}", nb.version);
    }

    #[test]
    fn the_temperature_is_fitted_on_the_calibration_set() {
        let corpus = tiny();
        // Calibrated on documents labelled against their content, the model must learn
        // to doubt itself: a higher temperature.
        let confused: Vec<Example> = corpus
            .iter()
            .take(30)
            .map(|e| {
                ex(
                    &e.name,
                    if e.label == "invoice" {
                        "letter"
                    } else {
                        "invoice"
                    },
                    &e.text,
                )
            })
            .collect();
        let honest = train(&corpus, &corpus[..30], Algorithm::Logistic).unwrap();
        let doubtful = train(&corpus, &confused, Algorithm::Logistic).unwrap();
        assert!(doubtful.temperature > honest.temperature);
    }

    #[test]
    fn broken_model_files_are_refused() {
        assert!(Model::parse("{}").is_err());
        assert!(Model::parse("not json").is_err());
        let mut file = train(&tiny(), &[], Algorithm::Logistic).unwrap();
        file.temperature = 0.0;
        assert!(Model::from_file(file.clone()).is_err());
        file.temperature = 1.0;
        file.labels.pop();
        assert!(
            Model::from_file(file).is_err(),
            "weights for labels that are not there"
        );
    }

    #[test]
    fn format_1_files_still_load() {
        let old = r#"{"format":1,"version":"nb-1-00000000","labels":["a","b"],
            "doc_counts":[3,3],"token_counts":{"apple":[5,0],"bread":[0,5]},
            "temperature":2.0,"held_out_accuracy":1.0}"#;
        let m = Model::parse(old).unwrap();
        assert_eq!(m.classify("apple apple").unwrap().label, "a");
        assert_eq!(m.version, "nb-1-00000000");
    }

    #[test]
    fn the_default_model_loads_and_knows_other() {
        let m = Model::default_model().unwrap();
        assert!(m.version.starts_with("lr-2-"), "{}", m.version);
        assert_eq!(m.labels.len(), 8);
        assert!(m.labels.iter().any(|l| l == OTHER));
    }
}
