//! What an operator deletes: a pacticipant, a version or a pact, with what belongs to it.

use crate::broker::require_admin;
use crate::records::{self, Deployment, Verification, pair};
use crate::{Broker, Caller, Result};

impl Broker {
    // ---- deletes (admin) ----

    /// Deletes a pacticipant with everything that belongs to it: its versions, the pacts
    /// it published or was published for, their verification results, its deployments
    /// and releases (the Pact Broker's `DELETE /pacticipants/{name}`).
    pub async fn delete_pacticipant(&self, caller: Caller, name: &str) -> Result<()> {
        require_admin(caller, "delete pacticipants")?;
        self.pacticipant(name).await?;
        for scope in self.pair_scopes(|c, p| c == name || p == name).await? {
            for kind in [
                records::PACT,
                records::PACT_CONTENT,
                records::VERIFICATION,
                records::TEST_RESULTS,
                crate::CONTRACT_COMPARISON,
            ] {
                self.records.delete(kind, &scope, None).await?;
            }
        }
        for kind in [records::DEPLOYMENT, records::RELEASE] {
            for d in self.records.list::<Deployment>(kind, Some(name)).await? {
                self.records
                    .delete(records::DEPLOYMENT_OWNER, kind, Some(&d.key))
                    .await?;
            }
        }
        self.forget_provider_contracts(name, None).await?;
        self.forget_webhooks_naming(name).await?;
        for kind in [records::VERSION, records::DEPLOYMENT, records::RELEASE] {
            self.records.delete(kind, name, None).await?;
        }
        self.records
            .delete(records::PACTICIPANT, "", Some(name))
            .await?;
        Ok(())
    }

    /// Deletes one version of a pacticipant: the pacts it published, the verification
    /// results it made as a provider, its deployments and releases.
    pub async fn delete_version(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
    ) -> Result<()> {
        require_admin(caller, "delete versions")?;
        self.version(pacticipant, number).await?;
        for scope in self.pair_scopes(|c, _| c == pacticipant).await? {
            self.records
                .delete(records::PACT, &scope, Some(number))
                .await?;
        }
        for scope in self.pair_scopes(|_, p| p == pacticipant).await? {
            for v in self
                .records
                .list::<Verification>(records::VERIFICATION, Some(&scope))
                .await?
            {
                if v.value.provider_version == number {
                    for kind in [records::TEST_RESULTS, records::VERIFICATION] {
                        self.records.delete(kind, &scope, Some(&v.key)).await?;
                    }
                }
            }
        }
        for kind in [records::DEPLOYMENT, records::RELEASE] {
            for d in self
                .records
                .list::<Deployment>(kind, Some(pacticipant))
                .await?
            {
                if d.value.version == number {
                    self.records.delete(kind, pacticipant, Some(&d.key)).await?;
                    self.records
                        .delete(records::DEPLOYMENT_OWNER, kind, Some(&d.key))
                        .await?;
                }
            }
        }
        self.forget_provider_contracts(pacticipant, Some(number))
            .await?;
        self.records
            .delete(records::VERSION, pacticipant, Some(number))
            .await?;
        Ok(())
    }

    /// Deletes the pact a consumer version published for a provider (its content stays
    /// while another version shares it; verification results belong to the content).
    pub async fn delete_pact(
        &self,
        caller: Caller,
        consumer: &str,
        provider: &str,
        number: &str,
    ) -> Result<()> {
        require_admin(caller, "delete pacts")?;
        self.pact(consumer, provider, number).await?;
        self.records
            .delete(records::PACT, &pair(consumer, provider), Some(number))
            .await?;
        Ok(())
    }

    /// The consumer–provider scopes holding pacts, content or results, where `which`.
    async fn pair_scopes(&self, which: impl Fn(&str, &str) -> bool) -> Result<Vec<String>> {
        let mut scopes = std::collections::BTreeSet::new();
        for kind in [records::PACT, records::PACT_CONTENT, records::VERIFICATION] {
            scopes.extend(self.records.pairs(kind, &which).await?);
        }
        Ok(scopes.into_iter().collect())
    }
}
