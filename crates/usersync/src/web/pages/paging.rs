//! The filters and page of a long list (a plan's or a run's operations), read from
//! and written back to the query string, so a filtered page is a link to share.
//!
//! Pages have a fixed size ([`PAGE_ROWS`]); whatever the list's length, a page
//! renders at most that many rows.

use serde::Deserialize;

/// Rows on one page of operations.
pub const PAGE_ROWS: u32 = 100;

/// `?kind=&outcome=&rule=&q=&page=`: empty values mean no filter; `page` counts from 1.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub q: String,
    /// Text, so `?page=abc` shows the first page instead of an error page.
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub flash: Option<String>,
}

impl ListQuery {
    /// The page asked for, from 1.
    #[must_use]
    pub fn page(&self) -> u64 {
        self.page.trim().parse::<u64>().unwrap_or(1).max(1)
    }

    /// Rows to skip for the page asked for.
    #[must_use]
    pub fn offset(&self) -> u64 {
        (self.page() - 1).saturating_mul(u64::from(PAGE_ROWS))
    }

    /// The filters as a query string (without `page`), e.g. `kind=create_user&q=al`.
    #[must_use]
    pub fn filters(&self) -> String {
        [
            ("kind", &self.kind),
            ("outcome", &self.outcome),
            ("rule", &self.rule),
            ("q", &self.q),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// Whether any filter is set.
    #[must_use]
    pub fn filtered(&self) -> bool {
        !self.filters().is_empty()
    }

    /// `base` with the filters and `page`.
    #[must_use]
    pub fn href(&self, base: &str, page: u64) -> String {
        let filters = self.filters();
        match (filters.is_empty(), page) {
            (true, 1) => base.to_owned(),
            (true, _) => format!("{base}?page={page}"),
            (false, 1) => format!("{base}?{filters}"),
            (false, _) => format!("{base}?{filters}&page={page}"),
        }
    }

    /// `base` with the filters only (an export of what the page shows).
    #[must_use]
    pub fn export(&self, base: &str) -> String {
        self.href(base, 1)
    }
}

/// Where a page is within the filtered list, and the links to its neighbours.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    /// Rows matching the filters.
    pub matching: u64,
    /// The first and last row shown, from 1 (0 and 0 when none).
    pub first: u64,
    pub last: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    #[must_use]
    pub fn new(query: &ListQuery, base: &str, matching: u64, shown: usize) -> Self {
        let page = query.page();
        let pages = matching.div_ceil(u64::from(PAGE_ROWS)).max(1);
        let first = if shown == 0 { 0 } else { query.offset() + 1 };
        let last = if shown == 0 {
            0
        } else {
            query.offset() + shown as u64
        };
        Self {
            page,
            pages,
            matching,
            first,
            last,
            prev: (page > 1).then(|| query.href(base, (page - 1).min(pages))),
            next: (page < pages).then(|| query.href(base, page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_page_links_to_its_neighbours_with_the_same_filters() {
        let q = ListQuery {
            kind: "create_user".into(),
            q: "a&b".into(),
            page: "2".into(),
            ..ListQuery::default()
        };
        let pager = Pager::new(&q, "/runs/7", 250, 100);
        assert_eq!(
            (pager.page, pager.pages, pager.first, pager.last),
            (2, 3, 101, 200)
        );
        assert_eq!(
            pager.prev.as_deref(),
            Some("/runs/7?kind=create_user&q=a%26b")
        );
        assert_eq!(
            pager.next.as_deref(),
            Some("/runs/7?kind=create_user&q=a%26b&page=3")
        );
        let bad = ListQuery {
            page: "junk".into(),
            ..ListQuery::default()
        };
        assert_eq!((bad.page(), bad.offset()), (1, 0));
        assert!(Pager::new(&bad, "/x", 0, 0).next.is_none());
    }
}
