//! How well a model does on labelled documents it was not built from: accuracy, macro-F1,
//! and whether its confidence means what it says (expected calibration error).

use super::{Example, Model, OTHER};

/// The answers a model gave on an evaluation set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The model's labels, then [`OTHER`] if the model has no such label but the set does.
    pub labels: Vec<String>,
    /// `matrix[actual][predicted]`; the last column counts documents with no answer.
    pub matrix: Vec<Vec<usize>>,
    pub outcomes: Vec<Outcome>,
}

/// One document's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub actual: usize,
    /// `None`: the model gave no answer (no word of the text is known to it).
    pub predicted: Option<usize>,
    pub confidence: f64,
}

impl Outcome {
    pub fn correct(&self) -> bool {
        self.predicted == Some(self.actual)
    }
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

pub fn evaluate<'a>(model: &Model, examples: impl IntoIterator<Item = &'a Example>) -> Evaluation {
    let mut labels = model.labels.clone();
    let examples: Vec<&Example> = examples.into_iter().collect();
    // Documents of kinds the model does not know are out of scope: the right answer is
    // `other`, which a model without that label can never give.
    if !labels.iter().any(|l| l == OTHER) && examples.iter().any(|e| !labels.contains(&e.label)) {
        labels.push(OTHER.to_owned());
    }
    let index = |label: &str| {
        labels
            .iter()
            .position(|l| l == label)
            .or_else(|| labels.iter().position(|l| l == OTHER))
    };
    let n = labels.len();
    let mut matrix = vec![vec![0usize; n + 1]; n];
    let mut outcomes = Vec::with_capacity(examples.len());
    for ex in examples {
        let Some(actual) = index(&ex.label) else {
            continue;
        };
        let prediction = model.classify(&ex.text);
        let predicted = prediction.as_ref().and_then(|p| index(&p.label));
        matrix[actual][predicted.unwrap_or(n)] += 1;
        outcomes.push(Outcome {
            name: ex.name.clone(),
            actual,
            predicted,
            confidence: prediction.map_or(0.0, |p| p.confidence),
        });
    }
    Evaluation {
        labels,
        matrix,
        outcomes,
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Evaluation {
    fn other(&self) -> Option<usize> {
        self.labels.iter().position(|l| l == OTHER)
    }

    /// The share of all documents answered right.
    pub fn accuracy(&self) -> f64 {
        share(
            self.outcomes.iter().filter(|o| o.correct()).count(),
            self.outcomes.len(),
        )
    }

    /// The share of documents of a known kind (not `other`) given their label.
    pub fn in_scope_accuracy(&self) -> f64 {
        let in_scope: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| Some(o.actual) != self.other())
            .collect();
        share(
            in_scope.iter().filter(|o| o.correct()).count(),
            in_scope.len(),
        )
    }

    /// The share of out-of-scope documents answered `other`; `None` without any.
    pub fn other_recall(&self) -> Option<f64> {
        let other = self.other()?;
        let out: Vec<_> = self.outcomes.iter().filter(|o| o.actual == other).collect();
        (!out.is_empty()).then(|| share(out.iter().filter(|o| o.correct()).count(), out.len()))
    }

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
            let precision = share(self.matrix[i][i], predicted);
            let recall = tp / support as f64;
            sum += if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            counted += 1;
        }
        share(1, counted) * sum
    }

    /// The answers in `n` equal-width confidence bins (a reliability diagram's bars).
    /// Documents without an answer are not in any bin.
    pub fn bins(&self, n: usize) -> Vec<Bin> {
        let n = n.max(1);
        let mut sums = vec![(0usize, 0.0f64, 0usize); n];
        for o in self.outcomes.iter().filter(|o| o.predicted.is_some()) {
            let i = ((o.confidence * n as f64) as usize).min(n - 1);
            sums[i].0 += 1;
            sums[i].1 += o.confidence;
            sums[i].2 += usize::from(o.correct());
        }
        sums.into_iter()
            .enumerate()
            .map(|(i, (count, conf, right))| Bin {
                lower: i as f64 / n as f64,
                upper: (i + 1) as f64 / n as f64,
                count,
                confidence: if count == 0 { 0.0 } else { conf / count as f64 },
                accuracy: share(right, count),
            })
            .collect()
    }

    /// Expected calibration error over 10 bins: how far, weighted by answers, the stated
    /// confidence is from the accuracy it comes with (0 is perfectly calibrated).
    pub fn ece(&self) -> f64 {
        let bins = self.bins(10);
        let total: usize = bins.iter().map(|b| b.count).sum();
        bins.iter()
            .map(|b| share(b.count, total) * (b.accuracy - b.confidence).abs())
            .sum()
    }

    /// The accuracy of the most confident tenth of the answers (at least one).
    pub fn top_decile_accuracy(&self) -> f64 {
        let mut sorted: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| o.predicted.is_some())
            .collect();
        if sorted.is_empty() {
            return 0.0;
        }
        sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let k = sorted.len().div_ceil(10);
        share(sorted[..k].iter().filter(|o| o.correct()).count(), k)
    }

    /// Wrong answers given with a confidence above `threshold`, most confident first.
    pub fn confident_mistakes(&self, threshold: f64) -> Vec<&Outcome> {
        let mut out: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| o.predicted.is_some() && !o.correct() && o.confidence > threshold)
            .collect();
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }

    /// A plain-text report for terminals, listing the wrong answers given with a
    /// confidence above `mistakes_above`.
    pub fn render(&self, mistakes_above: f64) -> String {
        let w = self
            .labels
            .iter()
            .map(|l| l.len())
            .max()
            .unwrap_or(4)
            .max(7);
        let right = self.outcomes.iter().filter(|o| o.correct()).count();
        let mut s = format!(
            "documents {}\naccuracy {:.4} ({right}/{})\naccuracy on known kinds {:.4}\n",
            self.outcomes.len(),
            self.accuracy(),
            self.outcomes.len(),
            self.in_scope_accuracy(),
        );
        if let Some(r) = self.other_recall() {
            s.push_str(&format!("out-of-scope answered {OTHER} {r:.4}\n"));
        }
        s.push_str(&format!(
            "macro-F1 {:.4}\nECE (10 bins) {:.4}\naccuracy of the most confident 10% {:.4}\n\n",
            self.macro_f1(),
            self.ece(),
            self.top_decile_accuracy(),
        ));
        s.push_str(&format!(
            "{:w$} ",
            "actual\\predicted".chars().take(w).collect::<String>()
        ));
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
        let mistakes = self.confident_mistakes(mistakes_above);
        s.push_str(&format!(
            "\nwrong answers with confidence above {mistakes_above}: {}\n",
            mistakes.len()
        ));
        for o in mistakes {
            let predicted = o.predicted.map_or("none", |p| self.labels[p].as_str());
            s.push_str(&format!(
                "  {} answered {predicted} ({:.3})\n",
                o.name, o.confidence
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(pairs: &[(f64, bool)]) -> Evaluation {
        Evaluation {
            labels: vec!["a".into(), "b".into()],
            matrix: vec![vec![0; 3]; 2],
            outcomes: pairs
                .iter()
                .enumerate()
                .map(|(i, &(confidence, correct))| Outcome {
                    name: format!("a/{i}"),
                    actual: 0,
                    predicted: Some(if correct { 0 } else { 1 }),
                    confidence,
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
        assert_eq!(over.confident_mistakes(0.9).len(), 2);
        assert_eq!(over.confident_mistakes(0.995).len(), 1);
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
    fn out_of_scope_documents_count_against_a_model_without_other() {
        let e = Evaluation {
            labels: vec!["a".into(), OTHER.into()],
            matrix: vec![vec![0; 3]; 2],
            outcomes: vec![
                Outcome {
                    name: "a/1".into(),
                    actual: 0,
                    predicted: Some(0),
                    confidence: 0.9,
                },
                Outcome {
                    name: "o/1".into(),
                    actual: 1,
                    predicted: Some(0),
                    confidence: 0.8,
                },
                Outcome {
                    name: "o/2".into(),
                    actual: 1,
                    predicted: Some(1),
                    confidence: 0.7,
                },
                Outcome {
                    name: "o/3".into(),
                    actual: 1,
                    predicted: None,
                    confidence: 0.0,
                },
            ],
        };
        assert_eq!(e.in_scope_accuracy(), 1.0);
        assert_eq!(e.other_recall(), Some(1.0 / 3.0));
        assert_eq!(e.accuracy(), 0.5);
        // The unanswered document is in no bin.
        assert_eq!(e.bins(10).iter().map(|b| b.count).sum::<usize>(), 3);
    }
}
