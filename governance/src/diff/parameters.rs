//! Parameters: required ones added, removed ones (before or after their sunset), defaults
//! and schemas of query, header and path parameters.

use std::collections::BTreeMap;

use super::deprecation::sunset_date;
use super::{Differ, Dir, Doc, Param, Side, Sides, param_schema, resolve, schema, template};
use crate::rules;

impl Differ<'_> {
    /// The operation's parameters (path-level ones overridden by its own), keyed by
    /// location and name; path parameters by their position in the template.
    pub(super) fn params_of<'v>(
        doc: &Doc<'v>,
        side: Side<'v>,
    ) -> BTreeMap<(String, String), Param<'v>> {
        let (path, item, op) = side;
        let (_, names) = template(path);
        let mut out = BTreeMap::new();
        for source in [&item["parameters"], &op["parameters"]] {
            for p in source.as_array().into_iter().flatten() {
                let (p, _) = resolve(doc, p);
                let place = p["in"].as_str().unwrap_or_default();
                let name = p["name"].as_str().unwrap_or_default();
                let key = match names.iter().position(|n| *n == name) {
                    Some(i) if place == "path" => format!("#{i}"),
                    // Header names are case-insensitive.
                    _ if place == "header" => name.to_ascii_lowercase(),
                    _ => name.to_owned(),
                };
                out.insert((place.to_owned(), key), Param { name, value: p });
            }
        }
        out
    }

    pub(super) fn parameters(&mut self, pointer: &str, label: &str, sides: &Sides<'_>) {
        let base = Self::params_of(&self.base, sides.base);
        let rev = Self::params_of(&self.rev, sides.rev);
        for ((place, key), rp) in &rev {
            let required = rp.value["required"] == true || place == "path";
            let before = base.get(&(place.clone(), key.clone()));
            let was_required = before.map(|bp| bp.value["required"] == true || place == "path");
            let where_ = format!("{pointer}/parameters/{place}:{}", rp.name);
            let name = rp.name;
            match was_required {
                None if required => self.push(
                    rules::REQUEST_PARAMETER_REQUIRED_ADDED,
                    where_,
                    format!("{label} needs the new {place} parameter `{name}`"),
                    "make the parameter optional (with a default)",
                ),
                Some(false) if required => self.push(
                    rules::REQUEST_PARAMETER_REQUIRED_ADDED,
                    where_,
                    format!("{label}: the {place} parameter `{name}` became required"),
                    "keep the parameter optional",
                ),
                None => self.note(
                    rules::REQUEST_PARAMETER_ADDED,
                    where_,
                    format!("takes the new optional {place} parameter `{name}`"),
                ),
                Some(true) if !required => self.note(
                    rules::REQUEST_PARAMETER_MADE_OPTIONAL,
                    where_,
                    format!("the {place} parameter `{name}` became optional"),
                ),
                _ => {}
            }
        }
        for (key, bp) in &base {
            let where_ = format!("{pointer}/parameters/{}:{}", key.0, bp.name);
            let Some(rp) = rev.get(key) else {
                let early = match sunset_date(&bp.value["x-sunset"]) {
                    Ok(Some(sunset)) => self.today.is_some_and(|t| t < sunset),
                    Ok(None) => false,
                    // A sunset that cannot be read cannot be shown to have passed.
                    Err(_) => true,
                };
                if bp.value["deprecated"] == true && early {
                    self.push(
                        rules::REQUEST_PARAMETER_REMOVED_BEFORE_SUNSET,
                        where_,
                        format!(
                            "the {} parameter `{}` is removed before its sunset ({})",
                            key.0, bp.name, bp.value["x-sunset"]
                        ),
                        "keep accepting it until its sunset",
                    );
                } else if bp.value["deprecated"] == true && !bp.value["x-sunset"].is_null() {
                    self.note(
                        rules::REQUEST_PARAMETER_RETIRED,
                        where_,
                        format!(
                            "the deprecated {} parameter `{}` was removed after its sunset ({})",
                            key.0, bp.name, bp.value["x-sunset"]
                        ),
                    );
                } else {
                    self.warn(
                        rules::REQUEST_PARAMETER_REMOVED,
                        where_,
                        format!(
                            "the {} parameter `{}` is no longer documented; clients may still send it",
                            key.0, bp.name
                        ),
                        "keep accepting (and ignoring) it, or deprecate it with a sunset first",
                    );
                }
                continue;
            };
            let what = format!("the {} parameter `{}`", key.0, bp.name);
            if rp.value["deprecated"] == true && bp.value["deprecated"] != true {
                self.note(
                    rules::REQUEST_PARAMETER_DEPRECATED,
                    where_.clone(),
                    format!("{what} is now deprecated"),
                );
                self.new_deprecation(&where_, &what, rp.value);
            } else if rp.value["deprecated"] == true {
                self.sunset_kept(&where_, &what, bp.value, rp.value);
            }
            let (b_schema, r_schema) = (param_schema(bp.value), param_schema(rp.value));
            let optional = rp.value["required"] != true && key.0 != "path";
            if optional {
                let (b_default, _) = resolve(&self.base, b_schema);
                let (r_default, _) = resolve(&self.rev, r_schema);
                if b_default["default"] != r_default["default"] {
                    self.push(
                        rules::REQUEST_DEFAULT_CHANGED,
                        format!("{where_}/schema/default"),
                        format!(
                            "{what}'s default {} → {}",
                            b_default["default"], r_default["default"]
                        ),
                        "keep the default: clients that omit the parameter rely on it",
                    );
                }
            }
            let mut seen = schema::Seen::new();
            self.schema(
                &format!("{where_}/schema"),
                b_schema,
                r_schema,
                Dir::Request,
                &mut seen,
            );
        }
    }
}
