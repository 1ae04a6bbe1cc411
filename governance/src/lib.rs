//! docintel's API governance gate: one pass over spec drift, breaking changes against
//! the released baselines, versions that say how much changed (and the changelog),
//! event schema compatibility, consumer contracts, the deprecation policy and lint (and,
//! given recordings, the traffic a server answered),
//! reported in Markdown or JSON.

pub mod changelog;
pub mod checks;
pub mod diff;
pub mod report;
pub mod rules;
pub mod server;

use std::path::Path;

use report::{Report, Section};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// A Confluent-compatible registry to check the event schemas against, too.
    pub registry: Option<String>,
    /// A missing spectral fails the gate instead of warning (CI).
    pub require_lint: bool,
    /// Where the gate's server parses uploaded documents.
    pub parser: docintel_backend::pipeline::Isolation,
    /// Verify the pacts a Pact Broker selects instead of those in `contracts/pacts/`.
    pub broker: Option<checks::contracts::BrokerSource>,
    /// Recorded responses (a JSON-lines or HAR file, or a folder of them) the documents
    /// must describe.
    pub traffic: Option<std::path::PathBuf>,
}

/// Runs every check against the repository at `root`.
pub async fn check(root: &Path, options: &CheckOptions) -> anyhow::Result<Report> {
    let server = server::Server::start(options.parser.clone()).await?;
    let mut sections: Vec<Section> = Vec::new();
    sections.push(checks::drift::check(root, Some(&server.base)).await);
    sections.extend(checks::breaking::check(root));
    sections.extend(checks::versioning::check(root));
    sections.extend(checks::events::check(root, options.registry.as_deref()).await);
    sections.push(
        checks::contracts::check(root, options.parser.clone(), options.broker.as_ref()).await,
    );
    sections.push(checks::bidirectional::check(root));
    sections.push(checks::deprecations::check(root, Some(&server.base), &options.parser).await);
    sections.push(checks::lint::check(root, options.require_lint).await);
    if let Some(traffic) = &options.traffic {
        let (section, outcome) = checks::traffic::check(root, traffic);
        eprintln!("{}", outcome.summary());
        sections.push(section);
    }
    Ok(Report::new(sections))
}
