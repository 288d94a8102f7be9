//! Licence figures: the licence REST resource (`/rest/license/1.0/license/userCount`,
//! `/maxUsers` and `/remainingSeats`, each answering `{"count": n}`, as
//! atlassian-python-api reads them; an unlimited licence reports
//! `Integer.MAX_VALUE` users, as Confluence's `UserCountService` documents) and the
//! list of users counting towards the licence, `GET /rest/api/admin/users/list/active`
//! (9.3+, with `totalCount`), whose `lastLogin` expansion (10.2 reference) tells
//! when each user last signed in.
//!
//! Sources: Confluence's `UserCountResource`/`UserCountService` javadoc (5.x to 6.x),
//! CONFSERVER-37100 (the three licence endpoints, and the active-users list in 9.3),
//! and the Admin Users page of the 9.4, 10.0 and 10.2 REST references. The format of
//! `lastLogin` is not shown there; the emulator writes ISO 8601 with milliseconds and
//! an offset, as Confluence's REST API writes its other dates.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Caller, sysadmin};
use super::state::{ApiResult, User};
use super::version::Version;
use super::wire::{self, Paging};

/// What `maxUsers` says for an unlimited licence (Java's `Integer.MAX_VALUE`).
const UNLIMITED: u64 = i32::MAX as u64;

pub fn routes(version: Version) -> Router<App> {
    let mut r = Router::new()
        .route("/rest/license/1.0/license/userCount", get(user_count))
        .route("/rest/license/1.0/license/maxUsers", get(max_users))
        .route(
            "/rest/license/1.0/license/remainingSeats",
            get(remaining_seats),
        );
    if version.has_active_users_list() {
        r = r.route("/rest/api/admin/users/list/active", get(active_users));
    }
    r
}

/// Which figure a licence endpoint answers.
#[derive(Debug, Clone, Copy)]
enum Figure {
    /// Seats in use.
    Used,
    /// Seats the licence allows.
    Allowed,
    /// Seats left; an unlimited licence (whose `Optional` the javadoc leaves empty, an
    /// answer no source shows) is answered as `Integer.MAX_VALUE` less the seats in use.
    Left,
}

/// One licence endpoint: `{"count": n}` for the sysadmin.
async fn count(app: &App, c: &Caller, figure: Figure) -> ApiResult<Json<Value>> {
    sysadmin(app, c)?;
    let store = app.store();
    let used = store.active_count() as u64;
    let allowed = store.licence_seats.map_or(UNLIMITED, u64::from);
    let count = match figure {
        Figure::Used => used,
        Figure::Allowed => allowed,
        Figure::Left => allowed.saturating_sub(used),
    };
    Ok(Json(json!({ "count": count })))
}

async fn user_count(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    count(&app, &c, Figure::Used).await
}

async fn max_users(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    count(&app, &c, Figure::Allowed).await
}

async fn remaining_seats(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    count(&app, &c, Figure::Left).await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    expand: Option<String>,
    start: Option<usize>,
    limit: Option<usize>,
}

/// Active users (deactivated ones do not count towards the licence), with
/// `totalCount` beside the usual page envelope.
async fn active_users(
    State(app): State<App>,
    Extension(c): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    sysadmin(&app, &c)?;
    let expand = q.expand.as_deref().unwrap_or_default();
    let with_status = wire::expands_status(Some(expand));
    let with_login =
        app.version.has_last_login() && expand.split(',').any(|p| p.trim() == "lastLogin");
    let store = app.store();
    let active: Vec<&User> = store.users.values().filter(|u| u.active).collect();
    let total = active.len();
    let render = |u: &User| {
        let mut person = wire::person(&app.base_url, u, with_status);
        if with_login {
            let at = u
                .last_login
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false));
            person["lastLogin"] = json!(at);
        }
        person
    };
    let paging = Paging {
        start: q.start,
        limit: q.limit,
    };
    let extra = q
        .expand
        .as_deref()
        .map(|e| format!("expand={}&", urlencoding::encode(e)))
        .unwrap_or_default();
    let Json(mut page) = app.page(
        "/rest/api/admin/users/list/active",
        active.into_iter(),
        render,
        paging,
        &extra,
    );
    page["totalCount"] = json!(total);
    Ok(Json(page))
}
