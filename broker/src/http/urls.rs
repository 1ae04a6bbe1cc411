//! The broker's absolute links: escaped path segments under the base URL.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use crate::Pact;

/// What a path segment may hold unescaped.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

pub(crate) fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub(crate) fn pacticipant_url(base: &str, p: &str) -> String {
    format!("{base}/pacticipants/{}", seg(p))
}

pub(crate) fn version_url(base: &str, p: &str, v: &str) -> String {
    format!("{}/versions/{}", pacticipant_url(base, p), seg(v))
}

pub(crate) fn pact_url(base: &str, pact: &Pact) -> String {
    consumer_version_pact_url(base, &pact.consumer, &pact.provider, &pact.consumer_version)
}

pub(crate) fn consumer_version_pact_url(
    base: &str,
    consumer: &str,
    provider: &str,
    version: &str,
) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/version/{}",
        seg(provider),
        seg(consumer),
        seg(version)
    )
}

pub(crate) fn verification_url(
    base: &str,
    consumer: &str,
    provider: &str,
    sha: &str,
    id: &str,
) -> String {
    format!(
        "{}/verification-results/{}",
        pact_version_url(base, consumer, provider, sha),
        seg(id)
    )
}

pub(crate) fn webhook_url(base: &str, uuid: &str) -> String {
    format!("{base}/webhooks/{}", seg(uuid))
}

pub(crate) fn pact_version_url(base: &str, consumer: &str, provider: &str, sha: &str) -> String {
    format!(
        "{base}/pacts/provider/{}/consumer/{}/pact-version/{}",
        seg(provider),
        seg(consumer),
        seg(sha)
    )
}

pub(crate) fn environment_url(base: &str, uuid: &str) -> String {
    format!("{base}/environments/{}", seg(uuid))
}

pub(crate) fn link(href: String) -> Value {
    json!({ "href": href })
}

pub(crate) fn named(href: String, title: &str, name: &str) -> Value {
    json!({ "href": href, "title": title, "name": name })
}

pub(crate) fn templated(href: String, title: &str) -> Value {
    json!({ "href": href, "title": title, "templated": true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped_in_links() {
        assert_eq!(seg("feat/x y"), "feat%2Fx%20y");
        assert_eq!(seg("1.0.0+build"), "1.0.0+build");
    }
}
