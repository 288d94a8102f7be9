//! RFC 8288 `Link` header parsing: finds the `rel="next"` URL of a page.
//!
//! Okta sends one `link` header field per relation, but proxies may join them
//! with commas, so both forms are read. The URL is returned verbatim: Okta's
//! cursors are opaque and must not be rebuilt.

use http::HeaderMap;

/// The target of the `rel="next"` link, if any.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_links)
        .find(|(_, rels)| {
            rels.split_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
        })
        .map(|(url, _)| url)
}

/// Every `<url>; rel="..."` pair of one header value.
fn parse_links(value: &str) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let url = rest[start + 1..start + end].trim().to_owned();
        rest = &rest[start + end + 1..];
        // Parameters run until the next link (a comma followed by '<').
        let params_end = next_link_start(rest);
        let rel = rel_param(&rest[..params_end]).unwrap_or_default();
        links.push((url, rel));
        rest = &rest[params_end..];
    }
    links
}

/// Where the next `<` that starts a new link is, skipping quoted strings.
fn next_link_start(s: &str) -> usize {
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => return i,
            _ => {}
        }
    }
    s.len()
}

fn rel_param(params: &str) -> Option<String> {
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("rel").then(|| {
            value
                .trim()
                .trim_end_matches(',')
                .trim()
                .trim_matches('"')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(http::header::LINK, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_next_link_is_found_in_separate_header_fields() {
        let map = headers(&[
            r#"<https://acme.okta.com/api/v1/users?limit=200>; rel="self""#,
            r#"<https://acme.okta.com/api/v1/users?after=00ud4tVDDXYVKPXKVLCO&limit=200>; rel="next""#,
        ]);
        assert_eq!(
            next_link(&map).as_deref(),
            Some("https://acme.okta.com/api/v1/users?after=00ud4tVDDXYVKPXKVLCO&limit=200")
        );
    }

    #[test]
    fn the_next_link_is_found_in_one_comma_joined_field() {
        let map = headers(&[
            r#"<https://a.okta.com/api/v1/logs?limit=20>; rel="self", <https://a.okta.com/api/v1/logs?limit=20&after=1627500044869_1>; rel="next""#,
        ]);
        assert_eq!(
            next_link(&map).as_deref(),
            Some("https://a.okta.com/api/v1/logs?limit=20&after=1627500044869_1")
        );
    }

    #[test]
    fn a_page_with_only_a_self_link_is_the_last() {
        let map = headers(&[
            r#"<https://a.okta.com/api/v1/users?limit=200&filter=status+eq+%22ACTIVE%22>; rel="self""#,
        ]);
        assert_eq!(next_link(&map), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
