//! Saying so when the server at a target URL is not the product it was configured as.
//!
//! Each client's version detection asks an endpoint only its product serves (Jira's
//! `serverInfo`, Confluence's `server-information` or applinks manifest). A 404 there
//! means the URL is wrong: most often the context path (a URL that goes on to `/rest`,
//! or one missing the `/jira` or `/confluence` a server runs under), or a URL of
//! another product. [`not_the_product`] builds that error with a hint for the URL at
//! hand.

use url::Url;

use crate::TargetError;

/// The error for a server at `base` that does not answer like `product`; `answer`
/// says what it answered instead.
#[must_use]
pub fn not_the_product(product: &'static str, base: &Url, answer: &str) -> TargetError {
    TargetError::NotTheProduct {
        product,
        url: base.to_string(),
        answer: answer.to_owned(),
        hint: context_hint(product, base),
    }
}

/// What to try for a base URL whose product endpoint was not found.
fn context_hint(product: &str, base: &Url) -> String {
    let path = base.path().trim_end_matches('/');
    if let Some(at) = path.find("/rest").filter(|&at| {
        let rest = &path[at + "/rest".len()..];
        rest.is_empty() || rest.starts_with('/')
    }) {
        let mut fixed = base.clone();
        fixed.set_path(&path[..at]);
        return format!(
            "the URL must stop before /rest (usersync adds the REST paths): try {}",
            fixed.as_str().trim_end_matches('/')
        );
    }
    let context = product.to_ascii_lowercase();
    if path.is_empty() {
        return format!(
            "if {product} runs under a context path, add it (e.g. {}/{context}); otherwise check that this is the {product} address",
            base.as_str().trim_end_matches('/')
        );
    }
    format!(
        "check the context path {path:?}: it must be the one in {product}'s Base URL setting, and the address must be {product}'s"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(url: &str) -> String {
        context_hint("Jira", &Url::parse(url).unwrap())
    }

    #[test]
    fn a_url_going_on_to_rest_is_told_where_to_stop() {
        assert!(
            hint("https://h.example/jira/rest/api/2").contains("try https://h.example/jira"),
            "{}",
            hint("https://h.example/jira/rest/api/2")
        );
        assert!(hint("https://h.example/rest/").contains("try https://h.example"));
    }

    #[test]
    fn a_root_url_is_told_it_may_miss_the_context_path() {
        assert!(hint("https://h.example/").contains("e.g. https://h.example/jira"));
    }

    #[test]
    fn a_url_with_another_path_is_asked_to_check_it() {
        assert!(hint("https://h.example/restless").contains("\"/restless\""));
    }
}
