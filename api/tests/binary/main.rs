//! The `docintel` binary as an operator runs it: its commands, and what a hostile client
//! can do to the process. Cargo builds the binary for these tests (`CARGO_BIN_EXE_docintel`).

mod cli;
mod confinement;
mod docs;
mod durability;
mod hostile;
mod scale_out;
mod served;

use std::path::Path;

/// The binary under test.
pub fn docintel() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_docintel"))
}

/// The repository, whose `schemas/avro` the commands read.
pub fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
