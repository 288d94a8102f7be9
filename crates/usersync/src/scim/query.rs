//! A listing's query parameters: the one filter Okta sends (`attr eq "value"`, for
//! `userName`, `externalId` and `id` of Users and `displayName`, `externalId` and
//! `id` of Groups) and 1-based `startIndex`/`count` paging (RFC 7644 §3.4.2). Any
//! other filter is a 400 `invalidFilter` saying what is supported.

use usersync_store::{ScimKind, ScimLookup};

use super::error::ScimError;

/// The most resources one page holds (`count` above it is lowered to it).
pub const MAX_COUNT: u64 = 1000;
/// The longest filter accepted.
const MAX_FILTER: usize = 1024;

/// A listing request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub lookup: ScimLookup,
    /// 1-based.
    pub start_index: u64,
    pub count: u64,
}

/// Parses `filter`, `startIndex` and `count` from the raw query pairs.
///
/// # Errors
/// `invalidFilter` or `invalidValue` naming the parameter.
pub fn parse(kind: ScimKind, pairs: &[(String, String)]) -> Result<ListQuery, ScimError> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let lookup = match get("filter") {
        None => ScimLookup::All,
        Some(f) => filter(kind, f)?,
    };
    // RFC 7644 §3.4.2.4: a startIndex below 1 is taken as 1; a negative count as 0.
    let start_index = number(get("startIndex"), "startIndex")?.map_or(1, |n| n.max(1));
    let count = number(get("count"), "count")?.map_or(100, |n| n.max(0));
    Ok(ListQuery {
        lookup,
        start_index: u64::try_from(start_index).unwrap_or(1),
        count: u64::try_from(count).unwrap_or(0).min(MAX_COUNT),
    })
}

fn number(value: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
    value
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                ScimError::invalid_value(format!("{name}: {v:?} is not a whole number"))
            })
        })
        .transpose()
}

/// Parses `attr eq "value"`.
fn filter(kind: ScimKind, text: &str) -> Result<ScimLookup, ScimError> {
    if text.len() > MAX_FILTER {
        return Err(ScimError::invalid_filter(format!(
            "filter: longer than {MAX_FILTER} characters"
        )));
    }
    let supported = match kind {
        ScimKind::User => "userName, externalId or id",
        ScimKind::Group => "displayName, externalId or id",
    };
    let unsupported = || {
        ScimError::invalid_filter(format!(
            "filter: {text:?} is not supported; use `ATTRIBUTE eq \"value\"` with ATTRIBUTE \
             {supported}"
        ))
    };
    let text = text.trim();
    let (attribute, rest) = text
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    let (op, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let value: String = serde_json::from_str(value.trim()).map_err(|_| {
        ScimError::invalid_filter(format!(
            "filter: the value in {text:?} must be one JSON string in double quotes"
        ))
    })?;
    // An attribute may carry its schema URN (`urn:...:User:userName`).
    let attribute = attribute.rsplit(':').next().unwrap_or(attribute);
    let name_attribute = match kind {
        ScimKind::User => "userName",
        ScimKind::Group => "displayName",
    };
    if attribute.eq_ignore_ascii_case(name_attribute) {
        Ok(ScimLookup::Name(value))
    } else if attribute.eq_ignore_ascii_case("externalId") {
        Ok(ScimLookup::ExternalId(value))
    } else if attribute.eq_ignore_ascii_case("id") {
        Ok(ScimLookup::Id(value))
    } else {
        Err(unsupported())
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes an
/// answer carries. `id`, `schemas` and `meta` always stay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    only: Vec<String>,
    excluded: Vec<String>,
}

impl Projection {
    #[must_use]
    pub fn parse(pairs: &[(String, String)]) -> Self {
        let list = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.split(','))
                .map(|a| a.trim().rsplit(':').next().unwrap_or_default().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        };
        Self {
            only: list("attributes"),
            excluded: list("excludedAttributes"),
        }
    }

    /// Applies the projection to one resource.
    pub fn apply(&self, resource: &mut serde_json::Value) {
        let Some(map) = resource.as_object_mut() else {
            return;
        };
        let always = |k: &str| {
            ["id", "schemas", "meta"]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(k))
        };
        let top = |a: &String| a.split('.').next().unwrap_or_default().to_ascii_lowercase();
        if !self.only.is_empty() {
            let keep: Vec<String> = self.only.iter().map(top).collect();
            map.retain(|k, _| always(k) || keep.contains(&k.to_ascii_lowercase()));
            for wanted in &self.only {
                if let Some((attr, sub)) = wanted.split_once('.')
                    && let Some((_, serde_json::Value::Object(inner))) =
                        map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(attr))
                    && !self.only.iter().any(|w| w.eq_ignore_ascii_case(attr))
                {
                    inner.retain(|k, _| {
                        k.eq_ignore_ascii_case(sub)
                            || self
                                .only
                                .iter()
                                .any(|w| w.eq_ignore_ascii_case(&format!("{attr}.{k}")))
                    });
                }
            }
        }
        for gone in &self.excluded {
            match gone.split_once('.') {
                Some((attr, sub)) => {
                    if let Some((_, serde_json::Value::Object(inner))) =
                        map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(attr))
                    {
                        inner.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                    }
                }
                None => map.retain(|k, _| always(k) || !k.eq_ignore_ascii_case(gone)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        parse(ScimKind::User, &pairs)
    }

    #[test]
    fn attributes_keep_and_excluded_attributes_drop_but_id_stays() {
        let pairs = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        let resource = serde_json::json!({"id": "1", "userName": "a", "name": {"givenName": "A", "familyName": "B"}, "title": "t"});
        let mut only = resource.clone();
        Projection::parse(&pairs("attributes", "userName,name.givenName")).apply(&mut only);
        assert_eq!(
            only,
            serde_json::json!({"id": "1", "userName": "a", "name": {"givenName": "A"}})
        );
        let mut without = resource;
        Projection::parse(&pairs("excludedAttributes", "name,id")).apply(&mut without);
        assert_eq!(
            without,
            serde_json::json!({"id": "1", "userName": "a", "title": "t"})
        );
    }

    #[test]
    fn oktas_username_lookup_and_paging_parse() {
        let parsed = q(&[
            ("filter", "userName eq \"a.b@example.com\""),
            ("startIndex", "1"),
            ("count", "100"),
        ])
        .unwrap();
        assert_eq!(parsed.lookup, ScimLookup::Name("a.b@example.com".into()));
        assert_eq!((parsed.start_index, parsed.count), (1, 100));
    }

    #[test]
    fn a_start_index_below_one_is_one_and_a_huge_count_is_capped() {
        let parsed = q(&[("startIndex", "-5"), ("count", "99999")]).unwrap();
        assert_eq!((parsed.start_index, parsed.count), (1, MAX_COUNT));
    }

    #[test]
    fn malformed_and_unsupported_filters_are_invalid_filter_errors_naming_the_filter() {
        for bad in [
            "userName",
            "userName eq",
            "userName eq unquoted",
            "userName co \"a\"",
            "title eq \"x\"",
            "userName eq \"a\" and active eq true",
        ] {
            let err = q(&[("filter", bad)]).unwrap_err();
            assert_eq!(err.scim_type, Some("invalidFilter"), "{bad}");
            assert!(err.detail.starts_with("filter:"), "{bad}: {}", err.detail);
        }
        let err = q(&[("count", "ten")]).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
        assert!(err.detail.starts_with("count:"));
    }
}
