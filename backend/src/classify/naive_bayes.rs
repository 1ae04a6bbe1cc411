//! Multinomial naive Bayes over the corpus's token counts: the first model, kept to be
//! measured against (`docintel model train --algorithm naive-bayes`). Treating every
//! word as independent evidence makes it overconfident on long documents, which one
//! temperature only partly undoes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Example, ModelError, tokenize, vocabulary};

/// What is stored: raw counts (integers, in sorted maps), so training is reproducible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Training documents per label.
    pub doc_counts: Vec<u64>,
    /// Occurrences of each token per label.
    pub token_counts: BTreeMap<String, Vec<u64>>,
}

pub fn fit(examples: &[&Example], labels: &[String]) -> Params {
    let mut docs = vec![0u64; labels.len()];
    let tokenized: Vec<(usize, Vec<String>)> = examples
        .iter()
        .filter_map(|e| {
            Some((
                labels.iter().position(|l| *l == e.label)?,
                tokenize(&e.text),
            ))
        })
        .collect();
    let vocabulary = vocabulary(tokenized.iter().map(|(_, t)| t.as_slice()));
    let mut counts: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (li, tokens) in &tokenized {
        docs[*li] += 1;
        for tok in tokens.iter().filter(|t| vocabulary.contains(t.as_str())) {
            counts
                .entry(tok.clone())
                .or_insert_with(|| vec![0; labels.len()])[*li] += 1;
        }
    }
    Params {
        doc_counts: docs,
        token_counts: counts,
    }
}

/// Log-probabilities, ready to score.
#[derive(Debug, Clone)]
pub struct Scorer {
    log_prior: Vec<f64>,
    log_likelihood: HashMap<String, Vec<f64>>,
}

impl Scorer {
    pub fn new(p: &Params, n: usize) -> Result<Self, ModelError> {
        if p.doc_counts.len() != n || p.token_counts.values().any(|c| c.len() != n) {
            return Err(ModelError::Format("label counts do not match".into()));
        }
        let total_docs: u64 = p.doc_counts.iter().sum();
        let vocab = p.token_counts.len() as f64;
        let mut totals = vec![0u64; n];
        for c in p.token_counts.values() {
            for (t, v) in totals.iter_mut().zip(c) {
                *t += v;
            }
        }
        // Laplace smoothing.
        let denom: Vec<f64> = totals.iter().map(|t| *t as f64 + vocab + 1.0).collect();
        let log_likelihood = p
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
            log_prior: p
                .doc_counts
                .iter()
                .map(|d| ((*d as f64 + 1.0) / (total_docs as f64 + n as f64)).ln())
                .collect(),
            log_likelihood,
        })
    }

    /// Log joint probability per label; `None` when no token is known.
    pub fn scores(&self, tokens: &[String]) -> Option<Vec<f64>> {
        let mut scores = self.log_prior.clone();
        let mut known = false;
        for tok in tokens {
            // Unknown tokens shift every label alike; skipping them changes nothing.
            if let Some(lp) = self.log_likelihood.get(tok) {
                known = true;
                for (s, l) in scores.iter_mut().zip(lp) {
                    *s += l;
                }
            }
        }
        known.then_some(scores)
    }
}
