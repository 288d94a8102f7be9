//! Query parsing, limits and Okta's cursor pagination: one `link` header field per
//! relation, `self` first (echoing the query plus the applied `limit`, encoded with `+`
//! like the real service), then `next` (with an opaque `after`) only when more exist.
//! Links are absolute on the host the client used.

use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;

/// The query string as ordered pairs (Okta echoes them in the `self` link).
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value; empty values count as absent, as Okta treats `?q=`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `limit`, defaulted and capped at the endpoint's maximum.
    ///
    /// # Errors
    /// E0000054 when `limit` is not a non-negative number.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| usize::try_from(n).unwrap_or(max).min(max))
                .ok_or_else(|| {
                    ApiError::invalid_paging(format!(
                        "limit: {text:?} is not a number between 0 and {max}"
                    ))
                }),
        }
    }

    /// A boolean flag such as `activate=false` (absent gives `default`).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::validation(
                name,
                format!("{name}: {v:?} is not true or false"),
            )),
        }
    }
}

/// `scheme://host` as the client addressed us (the `Host` header), for absolute links.
#[derive(Debug, Clone)]
pub struct Base(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(ToString::to_string))
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(Self(format!("http://{host}")))
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// The `link` header fields for one page: `self`, then `next` when `next_after` is given.
pub fn link_headers(
    base: &Base,
    path: &str,
    query: &Query,
    limit: usize,
    next_after: Option<&str>,
) -> HeaderMap {
    let limit_text = limit.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("limit", limit_text.as_str())];
    pairs.extend(
        query
            .0
            .iter()
            .filter(|(k, _)| k != "limit")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut headers = HeaderMap::new();
    let self_link = format!("<{}{path}?{}>; rel=\"self\"", base.0, encode(&pairs));
    headers.append(header::LINK, header_value(&self_link));
    if let Some(after) = next_after {
        pairs.retain(|(k, _)| *k != "after");
        pairs.push(("after", after));
        let next = format!("<{}{path}?{}>; rel=\"next\"", base.0, encode(&pairs));
        headers.append(header::LINK, header_value(&next));
    }
    headers
}

fn header_value(text: &str) -> HeaderValue {
    // Every part was percent-encoded above, so the text is visible ASCII.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("<>"))
}

/// A 200 JSON response with Okta's content type.
pub fn json(value: &Value, headers: HeaderMap) -> Response {
    let mut response = (headers, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

/// One page of a listing taken from an ordered iterator: up to `limit` items, plus the
/// cursor of the last one when at least one more item exists.
pub fn page<T, I: Iterator<Item = T>>(
    mut items: I,
    limit: usize,
    cursor: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let taken: Vec<T> = items.by_ref().take(limit).collect();
    let more = limit > 0 && items.next().is_some();
    let next = if more {
        taken.last().map(&cursor)
    } else {
        None
    };
    (taken, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_comes_first_with_the_applied_limit_then_next() {
        let q = Query::parse(Some("search=profile.nickName%20eq%20%22x%22&limit=500"));
        let h = link_headers(
            &Base("http://h:1".into()),
            "/api/v1/users",
            &q,
            200,
            Some("00u1"),
        );
        let links: Vec<_> = h
            .get_all(header::LINK)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(links, vec![
            "<http://h:1/api/v1/users?limit=200&search=profile.nickName+eq+%22x%22>; rel=\"self\"".to_owned(),
            "<http://h:1/api/v1/users?limit=200&search=profile.nickName+eq+%22x%22&after=00u1>; rel=\"next\"".to_owned(),
        ]);
    }

    #[test]
    fn limits_default_cap_and_refuse_garbage() {
        assert_eq!(Query::parse(None).limit(200, 200).unwrap(), 200);
        assert_eq!(
            Query::parse(Some("limit=5000")).limit(200, 200).unwrap(),
            200
        );
        assert_eq!(
            Query::parse(Some("limit=-1"))
                .limit(200, 200)
                .unwrap_err()
                .code,
            "E0000054"
        );
    }

    #[test]
    fn a_page_has_a_cursor_only_when_more_items_exist() {
        let (items, next) = page(1..=5, 2, |n| n.to_string());
        assert_eq!((items, next), (vec![1, 2], Some("2".to_owned())));
        let (items, next) = page(1..=2, 2, |n| n.to_string());
        assert_eq!((items, next), (vec![1, 2], None));
    }
}
