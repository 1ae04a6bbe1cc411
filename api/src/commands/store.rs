//! `docintel keys`, `tenants` and `migrate`: what an operator changes in the stored state.

use docintel_backend::Backend;

use crate::cli::{DataDir, KeysCommand, TenantsCommand};

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Create {
        tenant,
        admin,
        data,
    } = command;
    let tenant = tenant.trim();
    anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
    let backend = Backend::open(data.config()?).await?;
    let key = if admin {
        backend.create_admin_key(tenant).await?
    } else {
        backend.create_key(tenant).await?
    };
    backend.make_durable().await?;
    println!("{key}");
    Ok(())
}

pub async fn tenants(command: TenantsCommand) -> anyhow::Result<()> {
    let TenantsCommand::Limit {
        tenant,
        limit,
        default,
        data,
    } = command;
    let backend = Backend::open(data.config()?).await?;
    let limit = if default { None } else { limit };
    backend
        .set_rate_limit(
            tenant.trim(),
            limit.map(|l| (l.quota, l.window.as_secs() as u32)),
        )
        .await?;
    backend.make_durable().await?;
    eprintln!(
        "limit of {} set; a running docintel applies it within 30 s",
        tenant.trim()
    );
    Ok(())
}

/// `docintel migrate`: the store's migrations, nothing else.
pub async fn migrate(data: DataDir) -> anyhow::Result<()> {
    let config = data.config()?;
    docintel_backend::open_store(&config).await?;
    match &config.database_url {
        Some(url) => eprintln!(
            "{} is at this build's schema",
            docintel_backend::store::redact_url(url)
        ),
        None => eprintln!(
            "{} is at this build's schema",
            config.data_dir.join("docintel.db").display()
        ),
    }
    Ok(())
}
