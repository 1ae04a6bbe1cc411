//! `docintel model`: train and evaluate the document classifier.

use anyhow::Context;
use docintel_backend::classify::{self, Algorithm};

use crate::cli::{AlgorithmArg, ModelCommand};

pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Train {
            data,
            calibration,
            algorithm,
            out,
        } => {
            let corpus = classify::read_corpus(&data)?;
            let calibration = classify::read_corpus(&calibration)?;
            let algorithm = match algorithm {
                AlgorithmArg::Logistic => Algorithm::Logistic,
                AlgorithmArg::NaiveBayes => Algorithm::NaiveBayes,
            };
            let file = classify::train(&corpus, &calibration, algorithm)?;
            let mut json = serde_json::to_string(&file)?;
            json.push('\n');
            std::fs::write(&out, &json).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "trained {} on {} documents ({} labels), temperature {:.3} from {} calibration \
                 documents; wrote {} ({} bytes)",
                file.version,
                corpus.len(),
                file.labels.len(),
                file.temperature,
                calibration.len(),
                out.display(),
                json.len(),
            );
        }
        ModelCommand::Eval {
            data,
            model,
            diagram,
            mistakes_above,
        } => {
            let model = match model {
                Some(p) => classify::Model::load(&p)?,
                None => classify::Model::default_model()?,
            };
            let set = classify::read_corpus(&data)?;
            let eval = classify::evaluate(&model, &set);
            println!("model {}\n{}", model.version, eval.render(mistakes_above));
            if let Some(path) = diagram {
                docintel_api::plot::reliability(&path, &model.version, &eval)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote the reliability diagram to {}", path.display());
            }
        }
    }
    Ok(())
}
