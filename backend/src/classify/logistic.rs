//! Multinomial logistic regression on the same tokens, each document a vector of
//! sublinear term frequencies scaled to unit length. Unlike naive Bayes it weighs words
//! jointly, so twenty words that say the same thing count about once, and a document
//! made mostly of words it has never seen scores close to the bias: little confidence in
//! any known kind.
//!
//! Trained by full-batch Nesterov gradient descent with a fixed number of steps in a
//! fixed order: no randomness, so `docintel model train` reproduces the shipped model.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Example, ModelError, tokenize, vocabulary};

/// L2 penalty on the weights (not the biases). With it, the fixed number of steps (an
/// early stop) is what keeps the weights moderate. Both were chosen on the calibration
/// set (accuracy, macro-F1 and ECE) among 1e-5…1e-2; see docs/processing.md, "The
/// classifier".
pub const L2: f64 = 3e-5;
/// Gradient steps.
pub const STEPS: usize = 600;
/// How much unknown tokens lengthen a document's vector, relative to known ones: a text
/// of mostly unknown words scores closer to the biases, but not so much that a real
/// document written in words the corpus lacks is taken for `other`.
pub const UNKNOWN_WEIGHT: f64 = 0.1;
/// Documents longer than this many lines also train on their first this many (see `fit`).
const HEADING_LINES: usize = 3;
/// Stored weights are rounded to thousandths (dividing, so that they print short): it
/// keeps the model file small and its bytes stable, and changed no answer on the
/// held-out set. What is scored is what is stored.
const SCALE: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub l2: f64,
    /// Per label.
    pub bias: Vec<f64>,
    /// Per token, a weight per label. Tokens whose weights all round to zero are left out.
    pub weights: BTreeMap<String, Vec<f64>>,
}

/// Sublinear counts of the known tokens (what `lookup` finds, one lookup per distinct
/// token), divided by the length of the document's vector with unknown tokens weighed by
/// [`UNKNOWN_WEIGHT`]: a text of mostly unknown words gets a shorter vector. Tokens are
/// taken in sorted order, so every sum is done in the same order: reproducible floats.
fn features<T>(tokens: &[String], lookup: impl Fn(&str) -> Option<T>) -> Option<Vec<(T, f64)>> {
    let mut sorted: Vec<&str> = tokens.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let value = |c: usize| 1.0 + (c as f64).ln();
    let mut norm = 0.0;
    let mut out = Vec::new();
    for run in sorted.chunk_by(|a, b| a == b) {
        let v = value(run.len());
        match lookup(run[0]) {
            Some(found) => {
                norm += v * v;
                out.push((found, v));
            }
            None => norm += UNKNOWN_WEIGHT * v * v,
        }
    }
    let norm = norm.sqrt();
    for (_, v) in &mut out {
        *v /= norm;
    }
    (!out.is_empty()).then_some(out)
}

pub fn fit(examples: &[&Example], labels: &[String]) -> Params {
    let k = labels.len();
    let tokenized: Vec<(usize, Vec<String>)> = examples
        .iter()
        .filter_map(|e| {
            Some((
                labels.iter().position(|l| *l == e.label)?,
                tokenize(&e.text),
            ))
        })
        .collect();
    let vocab: Vec<&str> = vocabulary(tokenized.iter().map(|(_, t)| t.as_slice()))
        .into_iter()
        .collect();
    let index: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    // Each longer document also teaches its first three lines as a document of its own: a
    // scan whose OCR found only a heading ("SERVICE AGREEMENT between …") is still a
    // contract. Without them, little evidence reads as `other`, the most varied label.
    let headings: Vec<(usize, Vec<String>)> = examples
        .iter()
        .filter_map(|e| {
            let y = labels.iter().position(|l| *l == e.label)?;
            let lines: Vec<&str> = e.text.lines().filter(|l| !l.trim().is_empty()).collect();
            (lines.len() > HEADING_LINES).then(|| (y, tokenize(&lines[..HEADING_LINES].join("\n"))))
        })
        .collect();
    let docs: Vec<(usize, Vec<(usize, f64)>)> = tokenized
        .iter()
        .chain(&headings)
        .filter_map(|(y, tokens)| Some((*y, features(tokens, |t| index.get(t).copied())?)))
        .collect();
    // Every label weighs the same in the loss, however many documents it has.
    let mut per_label = vec![0usize; k];
    for (y, _) in &docs {
        per_label[*y] += 1;
    }
    let sample_weight: Vec<f64> = per_label
        .iter()
        .map(|n| {
            if *n == 0 {
                0.0
            } else {
                1.0 / (k as f64 * *n as f64)
            }
        })
        .collect();

    let dim = (vocab.len() + 1) * k; // weights, then biases
    let gradient = |theta: &[f64], grad: &mut [f64]| {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let bias = &theta[vocab.len() * k..];
        let mut z = vec![0.0; k];
        for (y, x) in &docs {
            z.copy_from_slice(bias);
            for (j, v) in x {
                for (zc, w) in z.iter_mut().zip(&theta[j * k..(j + 1) * k]) {
                    *zc += w * v;
                }
            }
            let p = softmax(&z);
            let sw = sample_weight[*y];
            for c in 0..k {
                let d = sw * (p[c] - f64::from(u8::from(c == *y)));
                grad[vocab.len() * k + c] += d;
                for (j, v) in x {
                    grad[j * k + c] += d * v;
                }
            }
        }
        for (g, w) in grad[..vocab.len() * k].iter_mut().zip(theta) {
            *g += L2 * w;
        }
    };
    // Nesterov's method with step 1/L: the loss's curvature is at most 1/2 per unit of
    // squared input length, and an input (features and the bias's 1) is at most 2 long.
    let step = 1.0 / (1.0 + L2);
    let mut theta = vec![0.0; dim];
    let mut previous = theta.clone();
    let mut look = theta.clone();
    let mut grad = vec![0.0; dim];
    for t in 0..STEPS {
        let momentum = t as f64 / (t as f64 + 3.0);
        for ((l, th), pr) in look.iter_mut().zip(&theta).zip(&previous) {
            *l = th + momentum * (th - pr);
        }
        gradient(&look, &mut grad);
        previous.copy_from_slice(&theta);
        for ((th, l), g) in theta.iter_mut().zip(&look).zip(&grad) {
            *th = l - step * g;
        }
    }
    let round = |w: f64| (w * SCALE).round() / SCALE;
    let weights = vocab
        .iter()
        .enumerate()
        .map(|(j, t)| {
            (
                (*t).to_owned(),
                theta[j * k..(j + 1) * k]
                    .iter()
                    .map(|w| round(*w))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, w)| w.iter().any(|x| *x != 0.0))
        .collect();
    Params {
        l2: L2,
        bias: theta[vocab.len() * k..].iter().map(|w| round(*w)).collect(),
        weights,
    }
}

pub(super) fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = z.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// The weights, ready to score.
#[derive(Debug, Clone)]
pub struct Scorer {
    bias: Vec<f64>,
    weights: HashMap<String, Vec<f64>>,
}

impl Scorer {
    pub fn new(p: &Params, n: usize) -> Result<Self, ModelError> {
        if p.bias.len() != n || p.weights.values().any(|w| w.len() != n) {
            return Err(ModelError::Format("label counts do not match".into()));
        }
        if p.bias
            .iter()
            .chain(p.weights.values().flatten())
            .any(|w| !w.is_finite())
        {
            return Err(ModelError::Format("weights must be finite numbers".into()));
        }
        Ok(Self {
            bias: p.bias.clone(),
            weights: p
                .weights
                .iter()
                .map(|(t, w)| (t.clone(), w.clone()))
                .collect(),
        })
    }

    /// One linear score per label; `None` when no token is known.
    pub fn scores(&self, tokens: &[String]) -> Option<Vec<f64>> {
        let x = features(tokens, |t| self.weights.get(t))?;
        let mut z = self.bias.clone();
        for (w, v) in x {
            for (zc, wc) in z.iter_mut().zip(w) {
                *zc += wc * v;
            }
        }
        Some(z)
    }
}
