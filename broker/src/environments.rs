//! Environments, and the deployments and releases recorded to them.

use crate::broker::require_admin;
use crate::names::check_name;
use crate::records::{self, Deployment, DeploymentOwner, Environment, now};
use crate::requests::EnvironmentRequest;
use crate::{Broker, BrokerError, Caller, Result};
use serde_json::Value;

/// A deployment or release, with whose it is and where.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub pacticipant: String,
    pub deployment: Deployment,
    pub environment: Environment,
}

fn deployment_kind(release: bool) -> &'static str {
    if release {
        records::RELEASE
    } else {
        records::DEPLOYMENT
    }
}

/// The most deployments (and, apart, releases) kept of one pacticipant, ended or not.
pub const MAX_RECORDED: usize = 1000;

/// The most an environment's `contacts` may take, as JSON: a few people to ask.
const MAX_CONTACTS_BYTES: usize = 16 * 1024;

/// An environment as requested, validated as the Pact Broker validates it (its uuid is
/// the caller's to set).
fn checked_environment(request: EnvironmentRequest) -> Result<Environment> {
    let name = request.name.unwrap_or_default();
    check_name("name", &name)?;
    if name.contains(char::is_whitespace) {
        return Err(BrokerError::invalid("name", "cannot contain spaces"));
    }
    let Some(production) = request.production else {
        return Err(BrokerError::invalid("production", "is missing"));
    };
    if let Some(display_name) = &request.display_name {
        check_name("displayName", display_name)?;
    }
    match &request.contacts {
        Value::Null => {}
        Value::Array(contacts) if contacts.iter().all(Value::is_object) => {
            if request.contacts.to_string().len() > MAX_CONTACTS_BYTES {
                return Err(BrokerError::invalid(
                    "contacts",
                    format!("is larger than {MAX_CONTACTS_BYTES} bytes"),
                ));
            }
        }
        _ => {
            return Err(BrokerError::invalid(
                "contacts",
                "must be an array of objects",
            ));
        }
    }
    Ok(Environment {
        uuid: String::new(),
        display_name: request.display_name.or_else(|| Some(name.clone())),
        name,
        production,
        contacts: request.contacts,
        created_at: now(),
        updated_at: None,
    })
}

fn name_taken(name: &str) -> BrokerError {
    BrokerError::invalid(
        "name",
        format!("name '{name}' is already used by an existing environment."),
    )
}

impl Broker {
    // ---- environments, deployments, releases ----

    pub async fn environments(&self) -> Result<Vec<Environment>> {
        Ok(self
            .records
            .list::<Environment>(records::ENVIRONMENT, Some(""))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn environment(&self, uuid: &str) -> Result<Environment> {
        self.environments()
            .await?
            .into_iter()
            .find(|e| e.uuid == uuid)
            .ok_or_else(|| {
                BrokerError::NotFound(format!("No environment with uuid '{uuid}' found"))
            })
    }

    pub async fn environment_named(&self, name: &str) -> Result<Option<Environment>> {
        Ok(self
            .records
            .get::<Environment>(records::ENVIRONMENT, "", name)
            .await?
            .map(|s| s.value))
    }

    pub async fn create_environment(
        &self,
        caller: Caller,
        request: EnvironmentRequest,
    ) -> Result<Environment> {
        require_admin(caller, "create environments")?;
        let environment = Environment {
            uuid: uuid::Uuid::new_v4().to_string(),
            ..checked_environment(request)?
        };
        if !self
            .records
            .insert(records::ENVIRONMENT, "", &environment.name, &environment)
            .await?
        {
            return Err(name_taken(&environment.name));
        }
        Ok(environment)
    }

    /// Replaces an environment's attributes, keeping its uuid (the Pact Broker's
    /// `PUT /environments/{uuid}`); admin keys only.
    pub async fn update_environment(
        &self,
        caller: Caller,
        uuid: &str,
        request: EnvironmentRequest,
    ) -> Result<Environment> {
        require_admin(caller, "update environments")?;
        let old = self.environment(uuid).await?;
        let new = Environment {
            uuid: old.uuid.clone(),
            created_at: old.created_at.clone(),
            updated_at: Some(now()),
            ..checked_environment(request)?
        };
        if new.name == old.name {
            return self
                .records
                .upsert(records::ENVIRONMENT, "", &new.name, new.clone(), |e| {
                    *e = new.clone();
                })
                .await;
        }
        // Environments are keyed by name: a rename is a new record under the new name.
        if !self
            .records
            .insert(records::ENVIRONMENT, "", &new.name, &new)
            .await?
        {
            return Err(name_taken(&new.name));
        }
        self.records
            .delete(records::ENVIRONMENT, "", Some(&old.name))
            .await?;
        Ok(new)
    }

    pub async fn delete_environment(&self, caller: Caller, uuid: &str) -> Result<()> {
        require_admin(caller, "delete environments")?;
        let environment = self.environment(uuid).await?;
        self.records
            .delete(records::ENVIRONMENT, "", Some(&environment.name))
            .await?;
        Ok(())
    }

    /// Records that `number` of `pacticipant` is deployed to (or, `release`, released in)
    /// the environment. A deployment replaces the one before it to the same target.
    pub async fn record(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
        environment: &str,
        target: Option<String>,
        release: bool,
    ) -> Result<(Deployment, Environment)> {
        let environment = self.environment(environment).await?;
        self.version(pacticipant, number).await?;
        self.claim(caller, pacticipant).await?;
        let kind = deployment_kind(release);
        let existing = self
            .records
            .list::<Deployment>(kind, Some(pacticipant))
            .await?;
        if release
            && let Some(same) = existing.iter().find(|d| {
                d.value.current
                    && d.value.version == number
                    && d.value.environment == environment.uuid
            })
        {
            return Ok((same.value.clone(), environment));
        }
        let target = target.filter(|t| !t.is_empty());
        let mut ended: Vec<&str> = Vec::new();
        if !release {
            for old in existing.iter().filter(|d| {
                d.value.current
                    && d.value.environment == environment.uuid
                    && d.value.target == target
            }) {
                self.records
                    .upsert(kind, pacticipant, &old.key, old.value.clone(), |d| {
                        d.current = false;
                        d.ended_at = Some(now());
                    })
                    .await?;
                ended.push(&old.key);
            }
        }
        // Bounded history: the oldest ended records make room; current ones never do.
        let mut excess = (existing.len() + 1).saturating_sub(MAX_RECORDED);
        for old in existing
            .iter()
            .filter(|d| !d.value.current || ended.contains(&d.key.as_str()))
        {
            if excess == 0 {
                break;
            }
            self.records
                .delete(kind, pacticipant, Some(&old.key))
                .await?;
            self.records
                .delete(records::DEPLOYMENT_OWNER, kind, Some(&old.key))
                .await?;
            excess -= 1;
        }
        if excess > 0 {
            return Err(BrokerError::QuotaExceeded(format!(
                "{pacticipant} has {MAX_RECORDED} {} recorded as current; record some ended first",
                if release { "releases" } else { "deployments" }
            )));
        }
        let deployment = Deployment {
            uuid: uuid::Uuid::new_v4().to_string(),
            version: number.to_owned(),
            environment: environment.uuid.clone(),
            target,
            current: true,
            created_at: now(),
            ended_at: None,
        };
        self.records
            .insert(kind, pacticipant, &deployment.uuid, &deployment)
            .await?;
        self.index_deployment(kind, pacticipant, &deployment.uuid)
            .await?;
        Ok((deployment, environment))
    }

    /// Notes whose deployment `uuid` is, so it can be found by uuid alone.
    async fn index_deployment(&self, kind: &str, pacticipant: &str, uuid: &str) -> Result<()> {
        let owner = DeploymentOwner {
            pacticipant: pacticipant.to_owned(),
        };
        self.records
            .insert(records::DEPLOYMENT_OWNER, kind, uuid, &owner)
            .await?;
        Ok(())
    }

    /// A deployment (or, `release`, a release) by its uuid, with its pacticipant and
    /// environment.
    pub async fn deployment(&self, uuid: &str, release: bool) -> Result<Recorded> {
        let kind = deployment_kind(release);
        let not_found = || {
            BrokerError::NotFound(format!(
                "No {} version with uuid '{uuid}' found",
                if release { "released" } else { "deployed" }
            ))
        };
        let owner = self
            .records
            .get::<DeploymentOwner>(records::DEPLOYMENT_OWNER, kind, uuid)
            .await?
            .ok_or_else(not_found)?
            .value;
        let deployment = self
            .records
            .get::<Deployment>(kind, &owner.pacticipant, uuid)
            .await?
            .ok_or_else(not_found)?
            .value;
        let environment = self.environment(&deployment.environment).await?;
        Ok(Recorded {
            pacticipant: owner.pacticipant,
            deployment,
            environment,
        })
    }

    /// Records that a deployment is no longer deployed (or a release no longer supported):
    /// the Pact Broker's `PATCH /deployed-versions/{uuid}` with `currentlyDeployed: false`.
    /// The version's owner (or an admin) only, as for recording it; selectors and
    /// can-i-deploy stop counting it. Ending what has ended changes nothing.
    pub async fn end(&self, caller: Caller, uuid: &str, release: bool) -> Result<Recorded> {
        let Recorded {
            pacticipant,
            deployment,
            environment,
        } = self.deployment(uuid, release).await?;
        self.claim(caller, &pacticipant).await?;
        let deployment = self
            .records
            .upsert(
                deployment_kind(release),
                &pacticipant,
                uuid,
                deployment,
                |d| {
                    if d.current {
                        d.current = false;
                        d.ended_at = Some(now());
                    }
                },
            )
            .await?;
        Ok(Recorded {
            pacticipant,
            deployment,
            environment,
        })
    }

    /// What is currently deployed to (or, `release`, released and supported in) the
    /// environment, of one pacticipant or of all.
    pub async fn currently_in(
        &self,
        environment: &str,
        pacticipant: Option<&str>,
        release: bool,
    ) -> Result<Vec<Recorded>> {
        let environment = self.environment(environment).await?;
        let kind = deployment_kind(release);
        let mut out = Vec::new();
        for d in self.records.list::<Deployment>(kind, pacticipant).await? {
            if d.value.current && d.value.environment == environment.uuid {
                // Recorded before deployments were indexed by uuid: index it now, so
                // its link works.
                self.index_deployment(kind, &d.scope, &d.key).await?;
                out.push(Recorded {
                    pacticipant: d.scope,
                    deployment: d.value,
                    environment: environment.clone(),
                });
            }
        }
        Ok(out)
    }

    /// What is currently deployed (and, with `released`, released and supported).
    pub async fn current(
        &self,
        pacticipant: &str,
        deployed: bool,
        released: bool,
    ) -> Result<Vec<Deployment>> {
        let mut out = Vec::new();
        for (kind, wanted) in [
            (records::DEPLOYMENT, deployed),
            (records::RELEASE, released),
        ] {
            if wanted {
                out.extend(
                    self.records
                        .list::<Deployment>(kind, Some(pacticipant))
                        .await?
                        .into_iter()
                        .map(|s| s.value)
                        .filter(|d| d.current),
                );
            }
        }
        Ok(out)
    }
}
