//! Responses: success statuses, media types, headers and body schemas.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Differ, Dir, Doc, escape, param_schema, resolve, schema};
use crate::rules;

impl Differ<'_> {
    pub(super) fn responses(
        &mut self,
        pointer: &str,
        label: &str,
        base_op: &Value,
        rev_op: &Value,
    ) {
        let empty = serde_json::Map::new();
        let base = base_op["responses"].as_object().unwrap_or(&empty);
        let rev = rev_op["responses"].as_object().unwrap_or(&empty);
        for status in rev.keys().filter(|s| !base.contains_key(*s)) {
            self.note(
                rules::RESPONSE_STATUS_ADDED,
                format!("{pointer}/responses/{status}"),
                format!("may answer {status}"),
            );
        }
        for (status, base_resp) in base {
            let success = status.starts_with('2');
            let where_ = format!("{pointer}/responses/{status}");
            let Some(rev_resp) = rev.get(status) else {
                if success {
                    let now: Vec<&str> = rev
                        .keys()
                        .filter(|k| k.starts_with('2'))
                        .map(String::as_str)
                        .collect();
                    self.push(
                        rules::SUCCESS_STATUS_REMOVED,
                        where_,
                        format!(
                            "{label} no longer answers {status} (success now: {})",
                            now.join(", ")
                        ),
                        "keep the success status; a different one belongs in a new major version",
                    );
                }
                continue;
            };
            let (base_resp, _) = resolve(&self.base, base_resp);
            let (rev_resp, _) = resolve(&self.rev, rev_resp);
            self.headers(&where_, label, status, base_resp, rev_resp);
            let base_content = base_resp["content"].as_object().unwrap_or(&empty);
            let rev_content = rev_resp["content"].as_object().unwrap_or(&empty);
            for media in rev_content
                .keys()
                .filter(|m| !base_content.contains_key(*m))
            {
                self.note(
                    rules::RESPONSE_MEDIA_TYPE_ADDED,
                    format!("{where_}/content/{}", escape(media)),
                    format!("may answer {media}"),
                );
            }
            for (media, base_media) in base_content {
                let media_ptr = format!("{where_}/content/{}", escape(media));
                match rev_content.get(media) {
                    None => self.push(
                        rules::RESPONSE_MEDIA_TYPE_REMOVED,
                        media_ptr,
                        format!("{label} {status} no longer answers {media}"),
                        "keep answering the media type clients accept",
                    ),
                    Some(rev_media) => {
                        let mut seen = schema::Seen::new();
                        self.schema(
                            &format!("{media_ptr}/schema"),
                            &base_media["schema"],
                            &rev_media["schema"],
                            Dir::Response,
                            &mut seen,
                        );
                    }
                }
            }
        }
    }

    pub(super) fn headers(
        &mut self,
        pointer: &str,
        label: &str,
        status: &str,
        base: &Value,
        rev: &Value,
    ) {
        let lower = |doc: &Doc, resp: &Value| -> BTreeMap<String, (String, Value)> {
            resp["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        (k.clone(), resolve(doc, v).0.clone()),
                    )
                })
                .collect()
        };
        let (base_h, rev_h) = (lower(&self.base, base), lower(&self.rev, rev));
        for (key, (name, _)) in &rev_h {
            if !base_h.contains_key(key) {
                self.note(
                    rules::RESPONSE_HEADER_ADDED,
                    format!("{pointer}/headers/{}", escape(name)),
                    format!("sends the new header {name}"),
                );
            }
        }
        for (key, (name, bh)) in &base_h {
            let where_ = format!("{pointer}/headers/{}", escape(name));
            let required = bh["required"] == true;
            match rev_h.get(key) {
                None if required => self.push(
                    rules::RESPONSE_HEADER_REMOVED,
                    where_,
                    format!("{label} {status} no longer sends the required header {name}"),
                    "keep sending the header clients read",
                ),
                None => self.warn(
                    rules::RESPONSE_OPTIONAL_HEADER_REMOVED,
                    where_,
                    format!("no longer sends the optional header {name}; clients that read it when present lose it"),
                    "keep sending it, or deprecate it first",
                ),
                Some((_, rh)) => {
                    if required && rh["required"] != true {
                        self.push(
                            rules::RESPONSE_HEADER_MADE_OPTIONAL,
                            where_.clone(),
                            format!("{label} {status} may now omit the header {name}"),
                            "keep the header required",
                        );
                    } else if !required && rh["required"] == true {
                        self.note(
                            rules::RESPONSE_HEADER_MADE_REQUIRED,
                            where_.clone(),
                            format!("now always sends the header {name}"),
                        );
                    }
                    let mut seen = schema::Seen::new();
                    self.schema(
                        &format!("{where_}/schema"),
                        param_schema(bh),
                        param_schema(rh),
                        Dir::Response,
                        &mut seen,
                    );
                }
            }
        }
    }
}
