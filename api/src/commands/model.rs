//! `docintel model`: train and evaluate the document classifier.

use anyhow::Context;

use crate::cli::ModelCommand;

pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    use docintel_backend::classify;
    match command {
        ModelCommand::Train { data, out } => {
            let corpus = classify::read_corpus(&data)?;
            let file = classify::train(&corpus)?;
            let mut json = serde_json::to_string(&file)?;
            json.push('\n');
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "trained {} on {} documents ({} labels); held-out accuracy {:.4}; wrote {}",
                file.version,
                corpus.len(),
                file.labels.len(),
                file.held_out_accuracy,
                out.display()
            );
        }
        ModelCommand::Eval {
            data,
            model,
            all,
            diagram,
        } => {
            let model = match model {
                Some(p) => classify::Model::load(&p)?,
                None => classify::Model::default_model()?,
            };
            let corpus = classify::read_corpus(&data)?;
            let eval = classify::evaluate(
                &model,
                corpus
                    .iter()
                    .filter(|e| all || classify::is_held_out(&e.name)),
            );
            println!("model {}\n{}", model.version, eval.render());
            if let Some(path) = diagram {
                docintel_api::plot::reliability(&path, &model.version, &eval)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote the reliability diagram to {}", path.display());
            }
        }
    }
    Ok(())
}
