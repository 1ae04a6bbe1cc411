//! `docintel keys` and `docintel tenants`: what an operator sets per tenant.

use docintel_backend::{Backend, Config};

use crate::cli::{KeysCommand, TenantsCommand};

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Create {
        tenant,
        admin,
        data,
    } = command;
    let tenant = tenant.trim();
    anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
    let backend = Backend::open(Config::new(data.data_dir)).await?;
    let key = if admin {
        backend.create_admin_key(tenant).await?
    } else {
        backend.create_key(tenant).await?
    };
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
    let backend = Backend::open(Config::new(data.data_dir)).await?;
    let limit = if default { None } else { limit };
    backend
        .set_rate_limit(
            tenant.trim(),
            limit.map(|l| (l.quota, l.window.as_secs() as u32)),
        )
        .await?;
    eprintln!(
        "limit of {} set; a running docintel applies it within 30 s",
        tenant.trim()
    );
    Ok(())
}
