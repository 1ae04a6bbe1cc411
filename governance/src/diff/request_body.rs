//! Request bodies: a body removed or made required, media types and their schemas.

use serde_json::Value;

use super::{Differ, Dir, escape, resolve, schema};
use crate::rules;

impl Differ<'_> {
    pub(super) fn request_body(&mut self, pointer: &str, base_op: &Value, rev_op: &Value) {
        let (base_body, _) = resolve(&self.base, &base_op["requestBody"]);
        let (rev_body, _) = resolve(&self.rev, &rev_op["requestBody"]);
        if rev_body.is_null() {
            if !base_body.is_null() {
                self.push(
                    rules::REQUEST_BODY_REMOVED,
                    format!("{pointer}/requestBody"),
                    "the operation no longer takes a request body".to_owned(),
                    "keep accepting the body (and ignore it if it no longer matters)",
                );
            }
            return;
        }
        if base_body.is_null() {
            if rev_body["required"] == true {
                self.push(
                    rules::REQUEST_PROPERTY_REQUIRED_ADDED,
                    format!("{pointer}/requestBody"),
                    "the operation now requires a request body".to_owned(),
                    "make the body optional",
                );
            } else {
                self.note(
                    rules::REQUEST_BODY_MADE_OPTIONAL,
                    format!("{pointer}/requestBody"),
                    "the operation takes a new optional request body".to_owned(),
                );
            }
            return;
        }
        if base_body["required"] == true && rev_body["required"] != true {
            self.note(
                rules::REQUEST_BODY_MADE_OPTIONAL,
                format!("{pointer}/requestBody/required"),
                "the request body became optional".to_owned(),
            );
        }
        if rev_body["required"] == true && base_body["required"] != true {
            self.push(
                rules::REQUEST_PROPERTY_REQUIRED_ADDED,
                format!("{pointer}/requestBody/required"),
                "the request body became required".to_owned(),
                "keep the body optional",
            );
        }
        let empty = serde_json::Map::new();
        let base_content = base_body["content"].as_object().unwrap_or(&empty);
        let rev_content = rev_body["content"].as_object().unwrap_or(&empty);
        for media in rev_content
            .keys()
            .filter(|m| !base_content.contains_key(*m))
        {
            self.note(
                rules::REQUEST_MEDIA_TYPE_ADDED,
                format!("{pointer}/requestBody/content/{}", escape(media)),
                format!("request bodies of type {media} are accepted too"),
            );
        }
        for (media, base_media) in base_content {
            let where_ = format!("{pointer}/requestBody/content/{}", escape(media));
            let Some(rev_media) = rev_content.get(media) else {
                self.push(
                    rules::REQUEST_PROPERTY_TYPE_CHANGED,
                    where_,
                    format!("request bodies of type {media} are no longer accepted"),
                    "keep accepting the media type",
                );
                continue;
            };
            if base_media["schema"].is_null() && !rev_media["schema"].is_null() {
                self.push(
                    rules::REQUEST_CONSTRAINT_TIGHTENED,
                    format!("{where_}/schema"),
                    format!("{media} bodies, unconstrained before, must now match a schema"),
                    "keep accepting any body of this media type",
                );
                continue;
            }
            let mut seen = schema::Seen::new();
            self.schema(
                &format!("{where_}/schema"),
                &base_media["schema"],
                &rev_media["schema"],
                Dir::Request,
                &mut seen,
            );
        }
    }
}
