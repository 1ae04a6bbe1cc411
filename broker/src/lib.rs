//! The embedded Pact Broker: the rules of the Pact Broker (pacticipants, versions with
//! branches and tags, pacts by content, verification results, environments, recorded
//! deployments and releases, pending and work-in-progress pacts, the matrix) over a
//! [`RecordStore`]. [`http`] serves it under the Pact Broker's HAL API, so the Pact Foundation's
//! own clients work against it unchanged; messages are the Pact Broker's own.
//!
//! Who may write: a pacticipant belongs to the tenant that first publishes as it (pacts
//! as a consumer, verification results as a provider, deployments); other tenants' keys
//! may read it but not publish as it. docintel itself ([`PROVIDER`]) is the platform's:
//! only admin keys publish its verification results and record its deployments, so no
//! tenant can claim it first. Admin keys may do anything, and alone manage environments
//! and delete. The operator may limit the broker to some tenants (`with_tenants`).
//!
//! Layered as the Pact Broker is: [`http`] (resources, one file each) calls the rules
//! ([`Broker`]), which read and write typed records over [`RecordStore`], the few calls
//! a database implements.

mod broker;
mod cache;
mod deletes;
mod environments;
pub mod http;
mod matrix;
mod names;
mod overview;
mod pacts;
mod provider_contracts;
mod quota;
mod records;
mod requests;
mod retention;
mod store;
mod verifiable;
mod verifications;
pub mod webhooks;

pub use broker::{Broker, PacticipantChange, READ_CACHE};
pub use environments::{MAX_RECORDED, Recorded};
pub use matrix::{MAX_ROWS, MAX_SELECTORS, Matrix, MatrixQuery, MatrixRow, MatrixSelector};
pub use names::{check_name, check_pacticipant_name, content_sha};
pub use overview::{Integration, LatestPact, PactStatus, PairRow};
pub use pacts::{ConsumerVersions, Pact, PactListing, ProviderState, Published};
pub use provider_contracts::{
    CONTRACT_COMPARISON, ContractComparison, PROVIDER_CONTRACT, PROVIDER_CONTRACT_CONTENT,
    ProviderContract, ProviderContractRequest, PublishedContract, comparison_mismatches,
};
pub use quota::{MAX_CONTRACTS, Quota, TENANT_QUOTA, Usage};
pub use records::{Deployment, Environment, Pacticipant, Stored, Verification, Version};
pub use requests::{ContractToPublish, EnvironmentRequest, PublishRequest, VerificationRequest};
pub use retention::{Cleaned, Retention};
pub use store::{Record, RecordStore, StoreError, StoreResult};
pub use verifiable::{ForVerification, Selector, VerifiablePact};
pub use verifications::Selection;
pub use webhooks::{Webhook, WebhookSink};

use std::collections::BTreeMap;

use uuid::Uuid;

/// Record kinds, scopes and keys as the broker stores them: for tests that write
/// records beneath the rules.
pub mod record_kinds {
    pub use crate::records::{
        DEPLOYMENT, ENVIRONMENT, PACT, PACT_CONTENT, PACTICIPANT, RELEASE, TEST_RESULTS,
        VERIFICATION, VERSION, pair,
    };
}

/// Largest pact accepted (decoded). Real pacts are tens of KiB; this bounds the work and
/// the storage one request can buy.
pub const MAX_PACT_BYTES: usize = 2 * 1024 * 1024;
/// Longest pacticipant name, version number, branch, tag or environment name.
pub const MAX_NAME_CHARS: usize = 255;
/// The largest `testResults` of a verification, as JSON: enough for the results of
/// thousands of interactions, and what bounds the storage a result takes.
pub const MAX_TEST_RESULTS_BYTES: usize = 256 * 1024;
/// The pacticipant docintel is in the broker: reserved to admin keys.
pub const PROVIDER: &str = "docintel";

pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

/// The broker's errors, each answered as the Pact Broker answers it.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// 404 with the Pact Broker's message.
    #[error("{0}")]
    NotFound(String),
    /// 400 `{"errors": {field: [messages]}}`.
    #[error("invalid request: {0:?}")]
    Invalid(BTreeMap<String, Vec<String>>),
    /// 409: republishing different content for a consumer version.
    #[error("{}", .0.join(" "))]
    Conflict(Vec<String>),
    /// 403: the key may not write this.
    #[error("{0}")]
    Forbidden(String),
    /// 413: a part of the request is larger than the broker keeps.
    #[error("{0}")]
    TooLarge(String),
    /// 507: the tenant keeps as much in the broker as it may.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("too many concurrent changes to the same record; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BrokerError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
    }
}

/// Who is calling: a tenant's key, and whether it is an admin key.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The tenant's id.
    pub tenant: Uuid,
    pub admin: bool,
}
