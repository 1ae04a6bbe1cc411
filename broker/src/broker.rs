//! The broker itself: its settings, and the pacticipants and their versions.

use std::sync::Arc;

use uuid::Uuid;

use crate::cache::Memo;
use crate::matrix::{Matrix, MatrixQuery};
use crate::names::{check_name, check_pacticipant_name};
use crate::quota::{Quota, TENANT_QUOTA, Usage};
use crate::records::{self, Pacticipant, Records, Stored, Version, now};
use crate::store::RecordStore;
use crate::verifiable::{ForVerification, Snapshot};
use crate::{BrokerError, Caller, PROVIDER, Result};

/// What a pacticipant update changes: `None` leaves the attribute, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct PacticipantChange {
    pub main_branch: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub repository_url: Option<Option<String>>,
}

/// Branch names the Pact Broker takes as a pacticipant's main branch when none is set.
const MAIN_BRANCH_CANDIDATES: [&str; 3] = ["develop", "main", "master"];

/// The embedded broker.
#[derive(Clone)]
pub struct Broker {
    pub(crate) records: Records,
    /// Lets a consumer version's pact be republished with other content (the Pact
    /// Broker's `allow_dangerous_contract_modification`); off by default.
    pub(crate) allow_modification: bool,
    /// Tenants whose keys may use the broker; `None`: any tenant's.
    pub(crate) tenants: Option<Arc<[String]>>,
    /// What each tenant may keep.
    pub(crate) quota: Quota,
    /// Badges answer without a key (the Pact Broker's `enable_public_badge_access`).
    pub(crate) public_badges: bool,
    /// Answers kept while the records are unchanged.
    pub(crate) memos: Arc<Memos>,
}

/// The weight of answers the broker keeps, by default: rows, pacts and versions, a few
/// hundred bytes each.
pub const READ_CACHE: usize = 200_000;

/// What the broker keeps of its answers, each memo within the same weight.
pub(crate) struct Memos {
    /// What selection reads of each provider's history.
    pub(crate) snapshots: Memo<String, Snapshot>,
    pub(crate) matrices: Memo<MatrixQuery, Matrix>,
    /// For-verification answers as sent, by (links' base, provider, question): rendering
    /// a few hundred pacts with their notices costs more than choosing them.
    pub(crate) for_verification_bodies: Memo<(String, String, ForVerification), axum::body::Bytes>,
}

impl Memos {
    fn new(capacity: usize) -> Self {
        Self {
            snapshots: Memo::new(capacity),
            matrices: Memo::new(capacity),
            for_verification_bodies: Memo::new(capacity),
        }
    }
}

impl Broker {
    pub fn new(store: Arc<dyn RecordStore>, allow_modification: bool) -> Self {
        Self {
            records: Records(store),
            allow_modification,
            tenants: None,
            quota: TENANT_QUOTA,
            public_badges: false,
            memos: Arc::new(Memos::new(READ_CACHE)),
        }
    }

    /// Keeps answers up to `weight` (rows, pacts, versions) while the records are
    /// unchanged; 0 computes every answer afresh.
    pub fn with_read_cache(mut self, weight: usize) -> Self {
        self.memos = Arc::new(Memos::new(weight));
        self
    }

    /// Lets badges answer without a key: anyone who knows (or guesses) a pair's names
    /// learns whether its latest pact is verified, and nothing else.
    pub fn with_public_badges(mut self, public: bool) -> Self {
        self.public_badges = public;
        self
    }

    pub fn public_badges(&self) -> bool {
        self.public_badges
    }

    /// Sets what each tenant may keep (default [`TENANT_QUOTA`]).
    pub fn with_quota(mut self, quota: Quota) -> Self {
        self.quota = quota;
        self
    }

    /// Limits the broker to these tenants' keys (admin keys are always admitted).
    pub fn with_tenants(mut self, tenants: Option<Vec<String>>) -> Self {
        self.tenants = tenants.map(Into::into);
        self
    }

    /// Whether a key of `tenant` may use the broker at all.
    pub fn admits(&self, tenant: &str, admin: bool) -> bool {
        admin
            || self
                .tenants
                .as_ref()
                .is_none_or(|t| t.iter().any(|name| name == tenant))
    }

    // ---- pacticipants and versions ----

    pub async fn pacticipants(&self) -> Result<Vec<Pacticipant>> {
        Ok(self
            .records
            .list::<Pacticipant>(records::PACTICIPANT, Some(""))
            .await?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    pub async fn pacticipant(&self, name: &str) -> Result<Pacticipant> {
        self.find_pacticipant(name).await?.ok_or_else(|| {
            BrokerError::NotFound(format!("No pacticipant with name '{name}' found"))
        })
    }

    pub(crate) async fn find_pacticipant(&self, name: &str) -> Result<Option<Pacticipant>> {
        Ok(self
            .records
            .get::<Pacticipant>(records::PACTICIPANT, "", name)
            .await?
            .map(|s| s.value))
    }

    /// Admits a write as `name`, creating the pacticipant (owned by the caller) if new.
    /// An existing pacticipant is only ever written by its owner or an admin: one first
    /// named as the other side of someone's pact has no owner, and stays unwritable by
    /// tenants until an operator grants it ([`Broker::grant`]), since whoever wrote first
    /// could otherwise speak for it (verify pacts as that provider, say).
    pub(crate) async fn claim(&self, caller: Caller, name: &str) -> Result<Pacticipant> {
        check_pacticipant_name("pacticipantName", name)?;
        if name == PROVIDER && !caller.admin {
            return Err(BrokerError::Forbidden(format!(
                "only an admin key may publish as pacticipant '{PROVIDER}': it is this platform"
            )));
        }
        let tenant = caller.tenant.to_string();
        if !caller.admin && self.find_pacticipant(name).await?.is_none() {
            self.make_room(
                caller,
                Usage {
                    pacticipants: 1,
                    ..Usage::default()
                },
            )
            .await?;
        }
        let initial = Pacticipant {
            owner: (!caller.admin).then(|| tenant.clone()),
            ..Pacticipant::new(name)
        };
        let claimed = self
            .records
            .upsert(records::PACTICIPANT, "", name, initial, |_| {})
            .await?;
        match claimed.owner.as_deref() {
            _ if caller.admin => Ok(claimed),
            Some(owner) if owner == tenant => Ok(claimed),
            Some(_) => Err(BrokerError::Forbidden(format!(
                "this key may not write as pacticipant '{name}': it belongs to another team"
            ))),
            None => Err(BrokerError::Forbidden(format!(
                "this key may not write as pacticipant '{name}': it was first named in another \
                 team's pact and has no owner yet; an operator grants it to its team \
                 (PATCH /pacticipants/{name} with an admin key and ownerTenant)"
            ))),
        }
    }

    /// Gives `name` to `tenant` (admin keys only), creating it if new: how a team gets
    /// a pacticipant that others' pacts named first.
    pub async fn grant(&self, caller: Caller, name: &str, tenant: Uuid) -> Result<Pacticipant> {
        require_admin(caller, "grant a pacticipant to a team")?;
        check_pacticipant_name("pacticipantName", name)?;
        if name == PROVIDER {
            return Err(BrokerError::invalid(
                "ownerTenant",
                format!("pacticipant '{PROVIDER}' is this platform's and cannot be granted"),
            ));
        }
        let owner = tenant.to_string();
        let initial = Pacticipant {
            owner: Some(owner.clone()),
            ..Pacticipant::new(name)
        };
        self.records
            .upsert(records::PACTICIPANT, "", name, initial, |p| {
                p.owner = Some(owner.clone());
            })
            .await
    }

    /// The other side of a pact: created if new, without an owner.
    pub(crate) async fn ensure_pacticipant(
        &self,
        caller: Caller,
        name: &str,
    ) -> Result<Pacticipant> {
        check_pacticipant_name("providerName", name)?;
        let initial = Pacticipant {
            named_by: (!caller.admin).then(|| caller.tenant.to_string()),
            ..Pacticipant::new(name)
        };
        self.records
            .upsert(records::PACTICIPANT, "", name, initial, |_| {})
            .await
    }

    /// Sets a pacticipant's main branch (owner or admin).
    pub async fn set_main_branch(
        &self,
        caller: Caller,
        name: &str,
        main_branch: Option<String>,
    ) -> Result<Pacticipant> {
        let change = PacticipantChange {
            main_branch: Some(main_branch),
            ..PacticipantChange::default()
        };
        Ok(self.update_pacticipant(caller, name, change).await?.0)
    }

    /// Creates the pacticipant (owned by the caller) if new, and changes the attributes
    /// `change` names, leaving the others (a merge patch, as the Pact Broker's `PATCH`
    /// and `POST /pacticipants`). Owner or admin only; true when it was created.
    pub async fn update_pacticipant(
        &self,
        caller: Caller,
        name: &str,
        change: PacticipantChange,
    ) -> Result<(Pacticipant, bool)> {
        for (field, value) in [
            ("mainBranch", &change.main_branch),
            ("displayName", &change.display_name),
            ("repositoryUrl", &change.repository_url),
        ] {
            if let Some(Some(v)) = value {
                check_name(field, v)?;
            }
        }
        let existed = self.find_pacticipant(name).await?.is_some();
        self.claim(caller, name).await?;
        let updated = self
            .records
            .upsert(
                records::PACTICIPANT,
                "",
                name,
                Pacticipant::new(name),
                |p| {
                    let mut changed = false;
                    for (field, value) in [
                        (&mut p.main_branch, &change.main_branch),
                        (&mut p.display_name, &change.display_name),
                        (&mut p.repository_url, &change.repository_url),
                    ] {
                        if let Some(v) = value
                            && field != v
                        {
                            field.clone_from(v);
                            changed = true;
                        }
                    }
                    if changed {
                        p.updated_at = Some(now());
                    }
                },
            )
            .await?;
        Ok((updated, !existed))
    }

    pub async fn versions(&self, pacticipant: &str) -> Result<Vec<Stored<Version>>> {
        self.records.list(records::VERSION, Some(pacticipant)).await
    }

    pub async fn version(&self, pacticipant: &str, number: &str) -> Result<Version> {
        self.pacticipant(pacticipant).await?;
        self.records
            .get::<Version>(records::VERSION, pacticipant, number)
            .await?
            .map(|s| s.value)
            .ok_or_else(|| {
                BrokerError::NotFound(format!(
                    "No version with number '{number}' found for pacticipant '{pacticipant}'"
                ))
            })
    }

    /// Creates the version if new and adds `branch` and `tags` to it; the first branch of
    /// a pacticipant named like a main branch becomes its main branch, as in the Pact
    /// Broker (`auto_detect_main_branch`).
    pub(crate) async fn touch_version(
        &self,
        pacticipant: &str,
        number: &str,
        branch: Option<&str>,
        tags: &[String],
        build_url: Option<&str>,
    ) -> Result<Version> {
        check_name("pacticipantVersionNumber", number)?;
        if let Some(b) = branch {
            check_name("branch", b)?;
        }
        for t in tags {
            check_name("tags", t)?;
        }
        let initial = Version {
            number: number.to_owned(),
            branches: Vec::new(),
            tags: Vec::new(),
            build_url: build_url.map(str::to_owned),
            created_at: now(),
        };
        let version = self
            .records
            .upsert(records::VERSION, pacticipant, number, initial, |v| {
                if let Some(b) = branch
                    && !v.branches.iter().any(|x| x == b)
                {
                    v.branches.push(b.to_owned());
                }
                for t in tags {
                    if !v.tags.contains(t) {
                        v.tags.push(t.clone());
                    }
                }
            })
            .await?;
        if let Some(b) = branch
            && MAIN_BRANCH_CANDIDATES.contains(&b)
        {
            self.records
                .upsert(
                    records::PACTICIPANT,
                    "",
                    pacticipant,
                    Pacticipant::new(pacticipant),
                    |p| {
                        if p.main_branch.is_none() {
                            p.main_branch = Some(b.to_owned());
                        }
                    },
                )
                .await?;
        }
        Ok(version)
    }

    /// `PUT /pacticipants/P/branches/B/versions/V` (what the verifier sends before its
    /// results).
    pub async fn add_branch(
        &self,
        caller: Caller,
        pacticipant: &str,
        branch: &str,
        number: &str,
    ) -> Result<Version> {
        self.claim(caller, pacticipant).await?;
        self.make_room(caller, self.new_version(pacticipant, number).await?)
            .await?;
        self.touch_version(pacticipant, number, Some(branch), &[], None)
            .await
    }

    /// `PUT /pacticipants/P/versions/V/tags/T`.
    pub async fn add_tag(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
        tag: &str,
    ) -> Result<Version> {
        self.claim(caller, pacticipant).await?;
        self.make_room(caller, self.new_version(pacticipant, number).await?)
            .await?;
        self.touch_version(pacticipant, number, None, &[tag.to_owned()], None)
            .await
    }
}

impl Broker {
    /// `DELETE /pacticipants/P/versions/V/tags/T` (owner or admin): the version stays.
    pub async fn remove_tag(
        &self,
        caller: Caller,
        pacticipant: &str,
        number: &str,
        tag: &str,
    ) -> Result<Version> {
        let version = self.version(pacticipant, number).await?;
        if !version.tags.iter().any(|t| t == tag) {
            return Err(tag_not_found(pacticipant, number, tag));
        }
        self.claim(caller, pacticipant).await?;
        self.records
            .upsert(records::VERSION, pacticipant, number, version, |v| {
                v.tags.retain(|t| t != tag);
            })
            .await
    }

    /// A version's tag, if it has it.
    pub async fn tag(&self, pacticipant: &str, number: &str, tag: &str) -> Result<Version> {
        let version = self.version(pacticipant, number).await?;
        if version.tags.iter().any(|t| t == tag) {
            Ok(version)
        } else {
            Err(tag_not_found(pacticipant, number, tag))
        }
    }
}

impl Broker {
    /// A pacticipant's branches, in the order their first versions were made.
    pub async fn branches(&self, pacticipant: &str) -> Result<Vec<String>> {
        self.pacticipant(pacticipant).await?;
        let mut branches: Vec<String> = Vec::new();
        for v in self.versions(pacticipant).await? {
            for b in v.value.branches {
                if !branches.contains(&b) {
                    branches.push(b);
                }
            }
        }
        Ok(branches)
    }

    /// Whether the pacticipant has the branch (a version on it).
    pub async fn branch(&self, pacticipant: &str, branch: &str) -> Result<()> {
        let on_it = self
            .versions(pacticipant)
            .await?
            .iter()
            .any(|v| v.value.branches.iter().any(|b| b == branch));
        if on_it {
            Ok(())
        } else {
            Err(branch_not_found(pacticipant, branch))
        }
    }

    /// Takes the branch off every version on it (owner or admin): the versions, their
    /// pacts and verification results stay, but no branch selector picks them any more
    /// (the Pact Broker's `DELETE /pacticipants/P/branches/B`).
    pub async fn delete_branch(
        &self,
        caller: Caller,
        pacticipant: &str,
        branch: &str,
    ) -> Result<()> {
        self.branch(pacticipant, branch).await?;
        self.claim(caller, pacticipant).await?;
        for v in self.versions(pacticipant).await? {
            if v.value.branches.iter().any(|b| b == branch) {
                self.records
                    .upsert(records::VERSION, pacticipant, &v.key, v.value, |v| {
                        v.branches.retain(|b| b != branch);
                    })
                    .await?;
            }
        }
        Ok(())
    }
}

fn branch_not_found(pacticipant: &str, branch: &str) -> BrokerError {
    BrokerError::NotFound(format!(
        "No branch '{branch}' found for pacticipant '{pacticipant}'"
    ))
}

fn tag_not_found(pacticipant: &str, number: &str, tag: &str) -> BrokerError {
    BrokerError::NotFound(format!(
        "No tag '{tag}' found for version '{number}' of pacticipant '{pacticipant}'"
    ))
}

pub(crate) fn require_admin(caller: Caller, what: &str) -> Result<()> {
    if caller.admin {
        Ok(())
    } else {
        Err(BrokerError::Forbidden(format!(
            "only an admin key may {what}"
        )))
    }
}

pub(crate) fn version_notice(
    name: &str,
    number: &str,
    branch: &Option<String>,
    tags: &[String],
) -> String {
    let mut text = format!("Created {name} version {number}");
    if let Some(b) = branch {
        text.push_str(&format!(" with branch {b}"));
    }
    if !tags.is_empty() {
        text.push_str(&format!(
            "{} tags {}",
            if branch.is_some() { " and" } else { " with" },
            tags.join(", ")
        ));
    }
    text
}
