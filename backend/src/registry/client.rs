//! Registering docintel's schemas: in the embedded registry, or over HTTP in any
//! Confluent-compatible one (`docintel schemas register --registry URL`, and at start when
//! an external registry is configured).

use serde_json::json;

use super::{Placement, Registry, RegistryError};
use crate::schemas::Mode;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// How to authenticate to a remote registry.
#[derive(Debug, Clone)]
pub enum Credentials {
    Bearer(String),
    Basic { user: String, password: String },
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The registry refused (incompatible, invalid…), with its `error_code` and message.
    #[error("{subject}: the registry refused the schema ({error_code}): {message}")]
    Refused {
        subject: String,
        error_code: i64,
        message: String,
    },
    #[error("{subject}: the schema is not valid: {message}")]
    Invalid { subject: String, message: String },
    #[error("registry at {url}: {message}")]
    Unreachable { url: String, message: String },
}

/// Where schemas are registered.
#[derive(Clone)]
pub enum Target {
    Embedded(Registry),
    Remote {
        base: String,
        auth: Option<Credentials>,
        http: reqwest::Client,
    },
}

impl Target {
    pub fn remote(base: &str, auth: Option<Credentials>) -> Self {
        Target::Remote {
            base: base.trim_end_matches('/').to_owned(),
            auth,
            http: reqwest::Client::new(),
        }
    }

    /// Sets `subject`'s compatibility level.
    pub async fn set_level(&self, subject: &str, mode: Mode) -> Result<(), RegisterError> {
        match self {
            Target::Embedded(registry) => registry
                .set_config(Some(subject), Some(mode.as_str()), None)
                .await
                .map(|_| ())
                .map_err(|e| refused(subject, e)),
            Target::Remote { base, auth, http } => remote_call(
                (base, auth.as_ref(), http),
                reqwest::Method::PUT,
                &format!("config/{}", encode(subject)),
                json!({ "compatibility": mode.as_str() }),
                subject,
            )
            .await
            .map(|_| ()),
        }
    }

    /// Registers `schema` under `subject`; returns its global id.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<i64, RegisterError> {
        match self {
            Target::Embedded(registry) => {
                let candidate =
                    registry
                        .candidate(schema, None, Vec::new())
                        .await
                        .map_err(|e| RegisterError::Invalid {
                            subject: subject.to_owned(),
                            message: e.to_string(),
                        })?;
                registry
                    .register(subject, &candidate, Placement::default())
                    .await
                    .map_err(|e| refused(subject, e))
            }
            Target::Remote { base, auth, http } => {
                let body = remote_call(
                    (base, auth.as_ref(), http),
                    reqwest::Method::POST,
                    &format!("subjects/{}/versions", encode(subject)),
                    json!({ "schema": schema, "schemaType": "AVRO" }),
                    subject,
                )
                .await?;
                body["id"].as_i64().ok_or_else(|| RegisterError::Refused {
                    subject: subject.to_owned(),
                    error_code: 0,
                    message: format!("the answer has no id: {body}"),
                })
            }
        }
    }
}

/// One call to a remote registry; a refusal carries its `error_code` and message.
async fn remote_call(
    (base, auth, http): (&String, Option<&Credentials>, &reqwest::Client),
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
    subject: &str,
) -> Result<serde_json::Value, RegisterError> {
    {
        let url = format!("{base}/{path}");
        let unreachable = |message: String| RegisterError::Unreachable {
            url: base.clone(),
            message,
        };
        let mut request = http
            .request(method, &url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::ACCEPT, CONTENT_TYPE)
            .body(body.to_string());
        request = match auth {
            Some(Credentials::Bearer(token)) => request.bearer_auth(token),
            Some(Credentials::Basic { user, password }) => request.basic_auth(user, Some(password)),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(json!({}));
        if status.is_success() {
            return Ok(json);
        }
        Err(RegisterError::Refused {
            subject: subject.to_owned(),
            error_code: json["error_code"]
                .as_i64()
                .unwrap_or(status.as_u16() as i64),
            message: json["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status}: {text}")),
        })
    }
}

fn refused(subject: &str, e: RegistryError) -> RegisterError {
    RegisterError::Refused {
        subject: subject.to_owned(),
        error_code: e.codes().1 as i64,
        message: e.to_string(),
    }
}

/// Subjects are path segments; docintel's names need no escaping beyond these.
fn encode(subject: &str) -> String {
    subject
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace(' ', "%20")
}
