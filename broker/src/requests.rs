//! What clients send: the Pact Broker's request bodies, read by the HTTP layer and taken
//! by the rules as they are.

use serde::Deserialize;
use serde_json::Value;

/// `POST /contracts/publish`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    pub pacticipant_name: Option<String>,
    pub pacticipant_version_number: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub build_url: Option<String>,
    pub contracts: Option<Vec<ContractToPublish>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractToPublish {
    pub consumer_name: Option<String>,
    pub provider_name: Option<String>,
    pub specification: Option<String>,
    pub content_type: Option<String>,
    pub content: Option<String>,
    #[serde(default)]
    pub on_conflict: Option<String>,
}

/// `POST …/verification-results`' body (what pact_verifier and the CLI send).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRequest {
    pub success: Option<bool>,
    pub provider_application_version: Option<String>,
    #[serde(default)]
    pub build_url: Option<String>,
    #[serde(default)]
    pub verified_by: Value,
    #[serde(default)]
    pub test_results: Value,
}

/// `POST /environments`' and `PUT /environments/{uuid}`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentRequest {
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub production: Option<bool>,
    /// The Pact Broker's `[{"name": …, "details": {…}}]`.
    #[serde(default)]
    pub contacts: Value,
}
