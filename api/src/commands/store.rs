//! `docintel keys`, `tenants` and `migrate`: what an operator changes in the stored state.

use docintel_backend::keys::Scopes;
use docintel_backend::{Backend, audit};
use time::format_description::well_known::Rfc3339;

use std::io::Write;

use crate::cli::{AuditCommand, DataDir, KeysCommand, TenantsCommand};

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            tenant,
            admin,
            scopes,
            expires_in_days,
            data,
        } => {
            let tenant = tenant.trim();
            anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
            let backend = Backend::open(data.config()?).await?;
            let spec = docintel_backend::KeySpec {
                admin,
                scopes: if scopes.is_empty() {
                    Scopes::ALL
                } else {
                    scopes.into_iter().collect()
                },
                expires_at: expires_in_days.map(|days| {
                    time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days))
                }),
            };
            let tenant = backend.tenant_named(tenant).await?;
            let (key, _) =
                audit::as_operator(tenant.id, backend.issue_key_for(tenant.id, spec)).await?;
            backend.make_durable().await?;
            println!("{key}");
        }
        KeysCommand::List { tenant, data } => {
            let backend = Backend::open(data.config()?).await?;
            let Some((_, keys)) = backend.keys_of(tenant.trim()).await? else {
                anyhow::bail!("no tenant named {:?}", tenant.trim());
            };
            let when = |t: Option<time::OffsetDateTime>| {
                t.and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_else(|| "-".to_owned())
            };
            println!("id\tprefix\tscopes\tadmin\tcreated\tlast used\texpires\trevoked");
            for k in keys {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.prefix,
                    k.scopes.to_text().replace(' ', ","),
                    k.admin,
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.expires_at),
                    when(k.revoked_at),
                );
            }
        }
        KeysCommand::Revoke { tenant, id, data } => {
            let backend = Backend::open(data.config()?).await?;
            let Some(tenant_id) = backend.existing_tenant(tenant.trim()).await?.map(|t| t.id)
            else {
                anyhow::bail!("no tenant named {:?}", tenant.trim());
            };
            anyhow::ensure!(
                audit::as_operator(tenant_id, backend.revoke_key(tenant_id, id.trim())).await?,
                "tenant {:?} has no unrevoked key {:?}",
                tenant.trim(),
                id.trim()
            );
            backend.make_durable().await?;
            println!("revoked {}", id.trim());
        }
    }
    Ok(())
}

pub async fn tenants(command: TenantsCommand) -> anyhow::Result<()> {
    use docintel_backend::model::QuotaSetting;
    match command {
        TenantsCommand::Limit {
            tenant,
            limit,
            default,
            max_bytes,
            max_documents,
            data,
        } => {
            let tenant = tenant.trim();
            anyhow::ensure!(!tenant.is_empty(), "--tenant must not be empty");
            let backend = Backend::open(data.config()?).await?;
            let id = backend.tenant_named(tenant).await?.id;
            if limit.is_some() || default {
                let limit = if default { None } else { limit };
                let limit = limit.map(|l| (l.quota, l.window.as_secs() as u32));
                audit::as_operator(id, backend.set_rate_limit(tenant, limit)).await?;
                eprintln!(
                    "request limit of {tenant} set; a running docintel applies it within 30 s"
                );
            }
            if max_bytes.is_some() || max_documents.is_some() {
                let setting =
                    |q: Option<crate::cli::QuotaArg>| q.map_or(QuotaSetting::Keep, |q| q.0);
                let quota =
                    backend.set_storage_quota(tenant, setting(max_bytes), setting(max_documents));
                audit::as_operator(id, quota).await?;
                eprintln!("storage quota of {tenant} set; it holds from the next upload");
            }
            backend.make_durable().await?;
        }
        TenantsCommand::Show { tenant, data } => {
            let backend = Backend::open(data.config()?).await?;
            let Some(tenant) = backend.existing_tenant(tenant.trim()).await? else {
                anyhow::bail!("no tenant named {:?}", tenant.trim());
            };
            let stored = backend.stored_usage(tenant.id).await?;
            let limit = |own: Option<Option<u64>>, flag: &str| match own {
                None => format!("the server's default ({flag})"),
                Some(None) => "unlimited (its own)".to_owned(),
                Some(Some(n)) => format!("{n} (its own)"),
            };
            println!("tenant     {}", tenant.name);
            println!(
                "documents  {} stored; limit: {}",
                stored.documents,
                limit(stored.max_documents, "--quota-documents")
            );
            println!(
                "bytes      {} stored; limit: {}",
                stored.bytes,
                limit(stored.max_bytes, "--quota-bytes")
            );
        }
    }
    Ok(())
}

/// `docintel audit export`: every matching entry (one tenant's, or all), newest first,
/// one JSON object per line.
pub async fn audit_export(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Export {
        tenant,
        action,
        since,
        until,
        data,
    } = command;
    let backend = Backend::open(data.config()?).await?;
    let tenant = match tenant.as_deref().map(str::trim) {
        Some(name) => match backend.existing_tenant(name).await? {
            Some(t) => Some(t.id),
            None => anyhow::bail!("no tenant named {name:?}"),
        },
        None => None,
    };
    let parse = |name: &str, v: Option<String>| -> anyhow::Result<_> {
        v.map(|v| {
            time::OffsetDateTime::parse(&v, &Rfc3339)
                .map_err(|e| anyhow::anyhow!("--{name} must be an RFC 3339 date-time: {e}"))
        })
        .transpose()
    };
    let filter = audit::AuditFilter {
        action,
        since: parse("since", since)?,
        until: parse("until", until)?,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut before = None;
    loop {
        let page = backend
            .audit_events(tenant, &filter, before, EXPORT_PAGE)
            .await?;
        for e in &page {
            let line = serde_json::json!({
                "id": e.seq,
                "at": e.at.format(&Rfc3339)?,
                "tenant_id": e.tenant.0,
                "actor": e.actor,
                "action": e.action,
                "resource_type": e.resource_type,
                "resource_id": e.resource_id,
                "address": e.address,
                "request_id": e.request_id,
            });
            writeln!(out, "{line}")?;
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE as usize => before = Some(last.seq),
            _ => break,
        }
    }
    out.flush()?;
    Ok(())
}

/// Entries read per query by the export: its memory stays bounded however long the trail.
const EXPORT_PAGE: u32 = 1_000;

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
