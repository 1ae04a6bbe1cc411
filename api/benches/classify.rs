//! Time per classification over the held-out set (184 documents of all kinds, tokenizing
//! included), for the shipped logistic regression and for naive Bayes trained on the same
//! corpus and calibration set in this run (the baseline), plus each model's size on disk.
//!
//! `cargo bench -p docintel-api --bench classify`

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use docintel_backend::classify::{self, Algorithm, Model};

fn bench(c: &mut Criterion) {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let read = |name: &str| classify::read_corpus(&models.join(name)).unwrap();
    let held_out = read("heldout");
    let nb_file =
        classify::train(&read("corpus"), &read("calibration"), Algorithm::NaiveBayes).unwrap();
    let nb_bytes = serde_json::to_string(&nb_file).unwrap().len();
    let candidates = [
        (
            "logistic (shipped)",
            Model::default_model().unwrap(),
            classify::DEFAULT_MODEL_JSON.len(),
        ),
        ("naive Bayes", Model::from_file(nb_file).unwrap(), nb_bytes),
    ];
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(held_out.len() as u64));
    for (name, model, bytes) in &candidates {
        println!("{name}: {} ({bytes} bytes)", model.version);
        group.bench_function(*name, |b| {
            b.iter(|| {
                held_out
                    .iter()
                    .filter_map(|e| model.classify(&e.text))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
