//! `docintel-bench`: the reliability harness. Each scenario starts a real `docintel serve`
//! (the binary beside this one, or `--docintel`), drives it, and prints its figures;
//! a scenario that misses its bar exits 1. Not a timed test: the figures are the product.
//!
//! ```sh
//! cargo build --release -p docintel-api --bin docintel -p docintel-bench
//! target/release/docintel-bench soak --secs 600 --plot soak.png
//! target/release/docintel-bench overload --secs 60
//! target/release/docintel-bench hostile --requests 10000
//! target/release/docintel-bench faults --outage-secs 300
//! ```

mod faults;
mod hostile;
mod load;
mod plot;
mod server;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "docintel-bench",
    about = "Soak, overload, hostile HTTP and faults against a real docintel."
)]
struct Cli {
    /// The docintel binary (default: the one beside this program).
    #[arg(long, global = true)]
    docintel: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Half the measured maximum load, a realistic mix, for a while: no errors, no lost
    /// document, RSS and descriptors flat after warm-up, p99 stable.
    Soak {
        #[arg(long, default_value_t = 600)]
        secs: u64,
        /// Write RSS and p99 over time here.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Soak at this many requests a second instead of half the maximum measured: two
        /// builds' latencies compare only at one rate.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Four times the maximum load: the server sheds (429/503 with Retry-After), its
    /// memory stays bounded, and it recovers.
    Overload {
        #[arg(long, default_value_t = 60)]
        secs: u64,
    },
    /// Generated malformed requests over every operation of both versions, and slow
    /// senders: no 5xx, no crash, no memory growth, slow connections cut.
    Hostile {
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// The committed OpenAPI documents the requests are generated from.
        #[arg(long, default_value = "openapi")]
        spec_dir: PathBuf,
    },
    /// The webhook receiver and the Kafka broker down for a while: every delivery and
    /// every event arrives after, once per event id, events in order.
    Faults {
        #[arg(long, default_value_t = 300)]
        outage_secs: u64,
        #[arg(long, default_value_t = 30)]
        documents: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let program = match cli.docintel {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("docintel"))
            .ok_or_else(|| anyhow::anyhow!("cannot find the docintel binary: pass --docintel"))?,
    };
    let passed = match cli.scenario {
        Scenario::Soak { secs, plot, rate } => {
            load::soak(&program, secs, plot.as_deref(), rate).await?
        }
        Scenario::Overload { secs } => load::overload(&program, secs).await?,
        Scenario::Hostile { requests, spec_dir } => {
            hostile::run(&program, requests, &spec_dir).await?
        }
        Scenario::Faults {
            outage_secs,
            documents,
        } => faults::run(&program, outage_secs, documents).await?,
    };
    if !passed {
        eprintln!("FAILED: see the figures above");
        std::process::exit(1);
    }
    Ok(())
}
