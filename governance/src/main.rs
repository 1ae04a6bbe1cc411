//! `docintel-governance`: the gate CI runs (`check`), the comparison of any two OpenAPI
//! documents (`diff`), the changelog of each version (`changelog`), recorded traffic
//! against any documents (`traffic`), and cutting a release baseline (`release`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use docintel_governance::checks::breaking::{accepted, today};
use docintel_governance::checks::contracts::BrokerSource;
use docintel_governance::checks::versioning;
use docintel_governance::report::{Report, Section, Severity};
use docintel_governance::{CheckOptions, changelog, diff};

#[derive(Parser)]
#[command(
    name = "docintel-governance",
    version,
    about = "docintel's API governance gate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Breaking,
    Warning,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Every check, in one pass: spec drift, breaking changes, event schemas, contracts,
    /// deprecations, lint. Exit 1 on any failure.
    Check {
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
        /// Also check the event schemas against this Confluent-compatible registry.
        #[arg(long)]
        registry: Option<String>,
        /// Fail (instead of warning) when spectral is not installed.
        #[arg(long)]
        require_lint: bool,
        /// The repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        #[command(flatten)]
        broker: BrokerArgs,
        /// Also prove the documents from recorded responses: a JSON-lines file
        /// (`docintel serve --record-traffic`), a HAR 1.2 file, or a folder of them.
        #[arg(long)]
        traffic: Option<PathBuf>,
    },
    /// Whether the OpenAPI documents describe every recorded response (status, content
    /// type, headers): any documents, JSON or YAML, and recordings as JSON lines
    /// (`docintel serve --record-traffic`) or HAR 1.2 files, or folders of them. Exit 1
    /// on an undocumented answer, 0 if none, 2 on unusable input.
    Traffic {
        /// An OpenAPI document (repeat for several versions).
        #[arg(long, required = true)]
        spec: Vec<PathBuf>,
        /// Recordings: files or folders.
        #[arg(required = true)]
        recordings: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
    },
    /// Whether REVISION breaks clients of BASE: any two OpenAPI 3.0 or 3.1 documents, JSON
    /// or YAML, with external `$ref`s to files beside them. Exit 1 if it does, 0 if not,
    /// 2 on unusable input.
    Diff {
        base: PathBuf,
        revision: PathBuf,
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
        /// Exit 1 on breaking findings only, or on warnings too.
        #[arg(long, value_enum, default_value = "breaking")]
        fail_on: FailOn,
        /// The least notice, in days, a newly deprecated operation, parameter or property
        /// must give with its `x-sunset` (0: a sunset is optional).
        #[arg(long, default_value_t = 0)]
        min_sunset_days: u32,
    },
    /// Print the gate's rules and the catalogue of oasdiff's breaking-change rules against
    /// them (the three tables in governance/README.md).
    Catalogue,
    /// Write docs/changelog/<version>.md for every API version (each release against the
    /// one before, and the current document against the newest); with --from, print the
    /// changes between two documents instead.
    Changelog {
        /// Exit 1 if a committed changelog differs from what would be written; write nothing.
        #[arg(long, conflicts_with = "from")]
        check: bool,
        /// The repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Print the changes since this document instead, e.g. openapi/released/v2/2.0.0.json.
        #[arg(long)]
        from: Option<PathBuf>,
        /// With --from, the later document (default: openapi/<version>.json for the
        /// baseline's version).
        #[arg(long, requires = "from")]
        to: Option<PathBuf>,
    },
    /// Cut a release: copy openapi/<version>.json to openapi/released/<version>/<release>.json.
    Release {
        #[arg(long)]
        version: String,
        #[arg(long)]
        release: String,
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// Where the contracts check takes its pacts from: by default `contracts/pacts/`; with
/// `--broker-url`, the pacts a Pact Broker selects for docintel, as its CI would.
#[derive(clap::Args)]
struct BrokerArgs {
    /// Verify the pacts this Pact Broker selects (e.g. http://host:8080/broker).
    #[arg(long, env = "PACT_BROKER_BASE_URL")]
    broker_url: Option<String>,
    /// Bearer token for the broker (a docintel key, for docintel's embedded broker).
    #[arg(long, env = "PACT_BROKER_TOKEN", hide_env_values = true)]
    broker_token: Option<String>,
    /// The provider version verified (e.g. the git commit); needed to publish results.
    #[arg(long)]
    provider_version: Option<String>,
    /// The provider branch: decides which pacts are pending and is recorded with results.
    #[arg(long)]
    provider_branch: Option<String>,
    /// Consumer version selectors, as JSON, e.g. '[{"mainBranch":true},{"deployedOrReleased":true}]'.
    #[arg(long, value_parser = parse_selectors)]
    consumer_version_selectors: Option<Selectors>,
    /// Include work-in-progress pacts published since this date (YYYY-MM-DD).
    #[arg(long)]
    include_wip_pacts_since: Option<String>,
    /// Publish the verification results to the broker.
    #[arg(long, requires = "provider_version", requires = "broker_url")]
    publish_verification_results: bool,
}

type Selectors = Vec<docintel_governance::checks::contracts::Selector>;

fn parse_selectors(s: &str) -> Result<Selectors, String> {
    serde_json::from_str(s)
        .map_err(|e| format!("not a JSON array of consumer version selectors: {e}"))
}

impl BrokerArgs {
    fn source(self) -> Option<BrokerSource> {
        let url = self.broker_url?;
        Some(BrokerSource {
            url: url.trim_end_matches('/').to_owned(),
            token: self.broker_token,
            provider_version: self.provider_version,
            provider_branch: self.provider_branch,
            selectors: self.consumer_version_selectors.unwrap_or_default(),
            include_wip_pacts_since: self.include_wip_pacts_since,
            publish: self.publish_verification_results,
        })
    }
}

fn print(report: &Report, format: Format) {
    match format {
        Format::Markdown => println!("{}", report.markdown()),
        Format::Json => println!("{}", report.json()),
    }
}

// The gate's server parses documents in child processes of this binary, which report
// refused allocations through this allocator.
#[global_allocator]
static ALLOCATOR: docintel_backend::pipeline::sandbox::WatchedAllocator<std::alloc::System> =
    docintel_backend::pipeline::sandbox::WatchedAllocator(std::alloc::System);

fn main() -> ExitCode {
    // The gate's server parses documents in child processes of this binary.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == docintel_backend::pipeline::sandbox::ARG)
    {
        docintel_backend::pipeline::sandbox::child_main();
    }
    run()
}

#[tokio::main]
async fn run() -> ExitCode {
    match Cli::parse().command {
        Command::Check {
            format,
            registry,
            require_lint,
            root,
            broker,
            traffic,
        } => {
            let parser = match docintel_backend::pipeline::Isolation::this_program() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: finding this executable to parse documents with: {e}");
                    return ExitCode::from(2);
                }
            };
            let options = CheckOptions {
                registry,
                require_lint,
                parser,
                broker: broker.source(),
                traffic,
            };
            match docintel_governance::check(&root, &options).await {
                Ok(report) => {
                    print(&report, format);
                    if report.passed {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("error: the gate could not run: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Traffic {
            spec,
            recordings,
            format,
        } => {
            use docintel_governance::checks::traffic;
            let mut specs = Vec::new();
            for path in &spec {
                match traffic::Spec::load(path) {
                    Ok(s) => specs.push(s),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            let (records, unreadable) = traffic::read(&recordings);
            let outcome = traffic::judge(&specs, &records, unreadable);
            let names: Vec<String> = spec.iter().map(|p| p.display().to_string()).collect();
            let report = Report::new(vec![outcome.section(names.join(", "))]);
            print(&report, format);
            eprintln!("{}", outcome.summary());
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Catalogue => {
            print!(
                "{}\n{}\n{}",
                diff::catalogue::rules_markdown(),
                diff::catalogue::other_rules_markdown(),
                diff::catalogue::markdown()
            );
            ExitCode::SUCCESS
        }
        Command::Diff {
            base,
            revision,
            format,
            fail_on,
            min_sunset_days,
        } => match (diff::load::spec(&base), diff::load::spec(&revision)) {
            (Ok(b), Ok(r)) => {
                let options = diff::Options {
                    today: today(),
                    min_sunset_days,
                };
                let findings = diff::diff_with(&b, &r, &options);
                let mut section = Section::new(
                    "breaking changes",
                    format!("{} → {}", base.display(), revision.display()),
                    findings,
                );
                if let FailOn::Warning = fail_on {
                    section.passed = !section
                        .findings
                        .iter()
                        .any(|f| f.severity <= Severity::Warning);
                }
                let report = Report::new(vec![section]);
                print(&report, format);
                if report.passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Changelog {
            from: Some(from),
            to,
            root,
            ..
        } => {
            let to = to.unwrap_or_else(|| {
                let version = from
                    .parent()
                    .and_then(Path::file_name)
                    .map(|v| v.to_string_lossy().into_owned())
                    .unwrap_or_default();
                PathBuf::from(format!("openapi/{version}.json"))
            });
            match (diff::load::spec(&from), diff::load::spec(&to)) {
                (Ok(b), Ok(r)) => {
                    // A released baseline (openapi/released/<version>/<release>.json) has
                    // the repository's acceptances against it.
                    let name = |p: Option<&std::ffi::OsStr>| {
                        p.map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    };
                    let version = name(from.parent().and_then(Path::file_name));
                    let release = name(from.file_stem());
                    let all = match accepted(&root) {
                        Ok(all) => all,
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::from(2);
                        }
                    };
                    let mine: Vec<_> = all
                        .iter()
                        .filter(|a| a.version == version && a.baseline == release)
                        .collect();
                    let comparison = versioning::compare(&b, &r, &mine);
                    println!("# Changes from {} to {}\n", from.display(), to.display());
                    println!(
                        "{}; needs {} release.\n",
                        comparison.summary(),
                        comparison.level()
                    );
                    print!("{}", changelog::entries(&comparison.changes, None));
                    ExitCode::SUCCESS
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Changelog {
            check: true,
            root,
            from: None,
            ..
        } => {
            let drift = changelog::drift(&root);
            for (path, problem) in &drift {
                eprintln!("{path}: {problem}; run `cargo run -p docintel-governance -- changelog`");
            }
            if drift.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Changelog {
            check: false,
            root,
            from: None,
            ..
        } => match changelog::write(&root) {
            Ok(written) => {
                for path in written {
                    eprintln!("wrote {}", path.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Release {
            version,
            release,
            root,
        } => {
            let valid = !release.is_empty()
                && release
                    .split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            if !valid {
                eprintln!("error: --release must be numeric, like 2.1.0");
                return ExitCode::from(2);
            }
            let from = root.join(format!("openapi/{version}.json"));
            let dir = root.join("openapi/released").join(&version);
            let to = dir.join(format!("{release}.json"));
            if to.exists() {
                eprintln!("error: {} exists; releases are immutable", to.display());
                return ExitCode::from(2);
            }
            match std::fs::create_dir_all(&dir).and_then(|_| std::fs::copy(&from, &to)) {
                Ok(_) => {
                    eprintln!("released {} as {}", from.display(), to.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
