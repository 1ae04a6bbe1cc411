//! docintel end to end: a real server on loopback (started by `docintel_api::Launch`, as
//! `docintel serve` starts), with its real peers — SQLite, parser processes, the schema
//! registry, Kafka, webhook receivers, the SDK, pacts. One test binary, one module per
//! area; the `docintel` binary's own tests are in api/tests/binary.

mod audit;
mod broker;
mod broker_cli;
mod broker_contracts;
mod broker_matrix;
mod broker_pages;
mod broker_webhooks;
mod broker_wip;
mod classifier;
mod common;
mod database;
mod docs;
mod events;
mod events_kafka;
mod hostile;
mod isolation;
mod keys;
mod layout;
mod openapi;
mod ops;
mod oversize;
mod pact_consumers;
mod pact_provider;
mod processing;
mod quotas;
mod reference;
mod refusals;
mod registry;
mod registry_confluent;
mod scanning;
mod sdk;
mod sdk_releases;
mod v1_legacy;
mod v2_documents;
mod webhooks;

use docintel_backend::pipeline::sandbox;

// As in docintel's main: a parser process reports refused allocations (see
// WatchedAllocator).
#[global_allocator]
static ALLOCATOR: sandbox::WatchedAllocator<std::alloc::System> =
    sandbox::WatchedAllocator(std::alloc::System);

/// This binary is the servers' parser program (`common::parser`): run as
/// `<it> __parse`, it parses one document as `docintel __parse` does, before the test
/// harness starts. Cargo builds the `docintel` binary only for its own package's tests,
/// and building it from inside a test would be a second cargo run with other features.
// SAFETY (of running before main): it reads /proc and its stdin, and either exits or
// returns at once; nothing it uses needs main's set-up.
#[ctor::ctor]
fn parser_process() {
    // std's argument list may not be filled in yet this early: read the kernel's.
    let is_parser = std::fs::read("/proc/self/cmdline")
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).nth(1) == Some(sandbox::ARG.as_bytes()));
    if is_parser {
        sandbox::child_main();
    }
}
