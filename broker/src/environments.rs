//! Environments, and the deployments and releases recorded to them.

use crate::broker::require_admin;
use crate::names::check_name;
use crate::records::{self, Deployment, Environment, now};
use crate::requests::EnvironmentRequest;
use crate::{Broker, BrokerError, Caller, Result};

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
        let name = request.name.unwrap_or_default();
        check_name("name", &name)?;
        if name.contains(char::is_whitespace) {
            return Err(BrokerError::invalid("name", "cannot contain spaces"));
        }
        let Some(production) = request.production else {
            return Err(BrokerError::invalid("production", "is missing"));
        };
        let environment = Environment {
            uuid: uuid::Uuid::new_v4().to_string(),
            display_name: request.display_name.or_else(|| Some(name.clone())),
            name: name.clone(),
            production,
            created_at: now(),
        };
        if !self
            .records
            .insert(records::ENVIRONMENT, "", &name, &environment)
            .await?
        {
            return Err(BrokerError::invalid(
                "name",
                format!("name '{name}' is already used by an existing environment."),
            ));
        }
        Ok(environment)
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
        let kind = if release {
            records::RELEASE
        } else {
            records::DEPLOYMENT
        };
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
            }
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
        Ok((deployment, environment))
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
