//! `docintel schemas`: the Avro event schemas' compatibility, offline or in a registry.

use crate::cli::{RegistryArgs, SchemasCommand};

/// Exit codes: 0 all registered, 1 a schema was refused, 2 unusable input or registry.
async fn register(dir: &std::path::Path, registry: &RegistryArgs) -> i32 {
    use docintel_backend::registry::client::{RegisterError, Target};
    let Some(url) = &registry.registry_url else {
        eprintln!("error: give --registry URL");
        return 2;
    };
    let auth = match registry.auth() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let subjects = match docintel_backend::schemas::load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let target = Target::remote(url, auth);
    for s in &subjects {
        let subject = format!("{}-value", s.name);
        let mut result = target.set_level(&subject, s.mode).await;
        for (n, path, _) in &s.versions {
            if result.is_err() {
                break;
            }
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return 2;
                }
            };
            result = target.register(&subject, &text).await.map(|id| {
                println!("{subject} v{n}: id {id}");
            });
        }
        match result {
            Ok(()) => {}
            Err(e @ RegisterError::Refused { .. }) => {
                eprintln!("refused: {e}");
                return 1;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    0
}

/// Exit codes: 0 compatible, 1 incompatible, 2 unusable input.
pub async fn run(command: SchemasCommand) -> i32 {
    use docintel_backend::schemas;
    match command {
        SchemasCommand::Register { dir, registry } => register(&dir, &registry).await,
        SchemasCommand::Check { dir } => match schemas::load(&dir) {
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
            Ok(subjects) => {
                let findings = schemas::check_history(&subjects);
                for s in &subjects {
                    println!("{}: {} version(s), {:?}", s.name, s.versions.len(), s.mode);
                }
                for f in &findings {
                    println!("INCOMPATIBLE {} v{}: {}", f.subject, f.version, f.message);
                }
                i32::from(!findings.is_empty())
            }
        },
        SchemasCommand::Compat {
            mode,
            refuse_bytes_as_string,
            files,
        } => {
            let mode: schemas::Mode = match mode.parse() {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let mut parsed = Vec::new();
            for f in &files {
                match schemas::parse_file(f) {
                    Ok(s) => parsed.push(s),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                }
            }
            let Some((newest, earlier)) = parsed.split_last() else {
                eprintln!("error: give at least one schema file");
                return 2;
            };
            let rules = schemas::Rules {
                refuse_bytes_as_string,
            };
            let earlier: Vec<schemas::WithRefs<'_>> = earlier.iter().map(Into::into).collect();
            match schemas::check_with(
                mode,
                &earlier,
                newest.into(),
                rules,
                &mut Default::default(),
            ) {
                Ok(()) => {
                    println!("compatible: the newest schema may follow the others under {mode:?}");
                    0
                }
                Err(schemas::Refusal::Incompatible(problems)) => {
                    for p in problems {
                        println!("incompatible: {p}");
                    }
                    1
                }
                Err(e @ schemas::Refusal::TooComplex(_)) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    }
}
