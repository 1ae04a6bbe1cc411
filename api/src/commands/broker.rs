//! `docintel broker clean`: the embedded Pact Broker's retention, run by the operator.

use std::sync::Arc;

use crate::cli::CleanArgs;

pub async fn clean(args: CleanArgs) -> anyhow::Result<()> {
    let store = docintel_backend::open_store(&args.data.config()?).await?;
    let store: Arc<dyn docintel_broker::RecordStore> = store;
    let broker = docintel_broker::Broker::new(store, false);
    let retention = args.retention();
    let c = broker.clean(&retention).await?;
    let verb = if retention.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    println!(
        "{verb} {} versions, {} pacts, {} pact contents, {} verification results, {} ended \
         deployments and releases, in {} batches of at most {}; {} versions kept",
        c.versions,
        c.pacts,
        c.contents,
        c.verifications,
        c.deployments,
        c.batches,
        retention.batch,
        c.versions_kept
    );
    Ok(())
}
