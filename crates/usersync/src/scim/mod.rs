//! usersync as the SCIM 2.0 server Okta provisions to: `/scim/v2/{app}` with
//! `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes` (`discovery`), `/Users`
//! (`users`) and `/Groups` (`groups`), answering RFC 7643/7644 shapes (`wire`, `patch`,
//! `query`) and SCIM errors (`error`) as `application/scim+json`.
//!
//! Every route needs the app's own SCIM bearer token (`auth`), never a console
//! session or API token. What Okta pushes is stored (`store::scim_server`: SCIM id,
//! `userName`/`externalId`, the last representation, group members), so GETs answer
//! what Okta expects, and then applied to the app's target by the engine's
//! single-user sync with the pushed data as its source side (`source`): the same
//! mapping, ownership rules, guards and hold budget as every run, recorded as runs
//! with trigger `scim`. Bodies are read up to [`MAX_BODY`] bytes.

pub mod auth;
pub mod discovery;
pub mod error;
mod groups;
pub mod patch;
pub mod query;
pub mod source;
mod users;
pub mod wire;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use usersync_store::{App, ScimRecord};

use crate::web::{Access, AppState, Routes};
use error::{ScimError, scim_json};

/// The largest request body read (Okta sends group members in batches well below it).
pub const MAX_BODY: usize = 1024 * 1024;
/// Where the SCIM server is mounted; `{app}` is the app's name.
pub const BASE_PATH: &str = "/scim/v2/{app}";

/// The SCIM routes, each with [`Access::ScimToken`] (checked by the handlers).
#[must_use]
pub fn routes() -> Routes {
    use Access::ScimToken as T;
    Routes::new()
        .get("/scim/v2/{app}/ServiceProviderConfig", T, spc)
        .get("/scim/v2/{app}/ResourceTypes", T, resource_types)
        .get("/scim/v2/{app}/ResourceTypes/{id}", T, resource_type)
        .get("/scim/v2/{app}/Schemas", T, schemas)
        .get("/scim/v2/{app}/Schemas/{id}", T, schema)
        .get("/scim/v2/{app}/Users", T, users::list)
        .post("/scim/v2/{app}/Users", T, users::create)
        .get("/scim/v2/{app}/Users/{id}", T, users::get)
        .put("/scim/v2/{app}/Users/{id}", T, users::replace)
        .patch("/scim/v2/{app}/Users/{id}", T, users::patch)
        .delete("/scim/v2/{app}/Users/{id}", T, users::delete)
        .get("/scim/v2/{app}/Groups", T, groups::list)
        .post("/scim/v2/{app}/Groups", T, groups::create)
        .get("/scim/v2/{app}/Groups/{id}", T, groups::get)
        .put("/scim/v2/{app}/Groups/{id}", T, groups::replace)
        .patch("/scim/v2/{app}/Groups/{id}", T, groups::patch)
        .delete("/scim/v2/{app}/Groups/{id}", T, groups::delete)
        // Anything else under the base (e.g. the optional `POST /.search`): a SCIM 404.
        .get("/scim/v2/{app}/{*rest}", T, unknown)
        .post("/scim/v2/{app}/{*rest}", T, unknown)
        .put("/scim/v2/{app}/{*rest}", T, unknown)
        .patch("/scim/v2/{app}/{*rest}", T, unknown)
        .delete("/scim/v2/{app}/{*rest}", T, unknown)
}

async fn unknown(
    State(state): State<AppState>,
    Path((app, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            Ctx::new(state, &app, &headers).await?;
            Err(ScimError::not_found(format!(
                "no SCIM endpoint /{rest}; this server has /Users, /Groups, /ServiceProviderConfig, \
                 /ResourceTypes and /Schemas (no /.search and no /Bulk)"
            )))
        }
        .await,
    )
}

/// An authorized request's app and the base URL its resources live under.
pub(crate) struct Ctx {
    pub app: App,
    pub base: String,
    pub state: AppState,
}

impl Ctx {
    pub(crate) async fn new(
        state: AppState,
        name: &str,
        headers: &HeaderMap,
    ) -> Result<Self, ScimError> {
        let app = auth::authorize(&state.backend.store, name, headers).await?;
        let base = base_url(&state, headers, &app.name);
        Ok(Self { app, base, state })
    }

    pub(crate) fn store(&self) -> &usersync_store::Store {
        &self.state.backend.store
    }
}

/// `https://host/scim/v2/{app}`: from `serve --public-url`, else the request's Host.
fn base_url(state: &AppState, headers: &HeaderMap, app: &str) -> String {
    let app = url_escape(app);
    if let Some(public) = &state.public_url {
        return format!("{}/scim/v2/{app}", public.as_str().trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.eq_ignore_ascii_case("https"))
        .map_or("http", |_| "https");
    format!("{scheme}://{host}/scim/v2/{app}")
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes.
pub(crate) async fn json_body(body: Body) -> Result<Value, ScimError> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            format!("the request body is larger than {MAX_BODY} bytes, or could not be read"),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")))
}

/// Refuses a write whose `If-Match` names another version (412).
pub(crate) fn check_if_match(headers: &HeaderMap, record: &ScimRecord) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let current = wire::etag(record);
    let strong = current.trim_start_matches("W/");
    if wanted
        .split(',')
        .map(str::trim)
        .any(|w| w == "*" || w == current || w == strong)
    {
        Ok(())
    } else {
        Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            format!("If-Match: the resource is at version {current}; read it again"),
        ))
    }
}

/// A single resource's answer: its JSON, `ETag` and, for a creation, `Location`.
pub(crate) fn resource(status: StatusCode, record: &ScimRecord, body: &Value) -> Response {
    let mut response = scim_json(status, body);
    let headers = response.headers_mut();
    if let Ok(v) = wire::etag(record).parse() {
        headers.insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(Ok(location)) = body
            .pointer("/meta/location")
            .and_then(Value::as_str)
            .map(str::parse)
    {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// The stored text of a checked body.
pub(crate) fn body_text(input: &wire::Input) -> Result<String, ScimError> {
    serde_json::to_string(&input.body)
        .map_err(|e| ScimError::invalid_value(format!("the body: {e}")))
}

pub(crate) fn to_write<'a>(input: &'a wire::Input, body: &'a str) -> usersync_store::ScimWrite<'a> {
    usersync_store::ScimWrite {
        name: &input.name,
        external_id: input.external_id.as_deref(),
        active: input.active,
        body,
    }
}

/// `GET /Users` and `GET /Groups`: one page of `kind`'s resources (filter and 1-based
/// paging from `pairs`), each shown by `view` and cut to the asked attributes.
async fn list_page(
    ctx: &Ctx,
    kind: usersync_store::ScimKind,
    pairs: &[(String, String)],
    view: impl AsyncFn(&Ctx, &ScimRecord) -> Result<Value, ScimError>,
) -> Result<Response, ScimError> {
    let q = query::parse(kind, pairs)?;
    let page = ctx
        .store()
        .scim_resources(ctx.app.id, kind, &q.lookup, q.start_index - 1, q.count)
        .await
        .map_err(ScimError::store)?;
    let projection = query::Projection::parse(pairs);
    let mut resources = Vec::with_capacity(page.records.len());
    for record in &page.records {
        let mut one = view(ctx, record).await?;
        projection.apply(&mut one);
        resources.push(one);
    }
    Ok(scim_json(
        StatusCode::OK,
        &wire::list(page.total, q.start_index, resources),
    ))
}

fn answer(result: Result<Response, ScimError>) -> Response {
    result.unwrap_or_else(axum::response::IntoResponse::into_response)
}

async fn spc(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            Ok(scim_json(
                StatusCode::OK,
                &discovery::service_provider_config(&ctx.base),
            ))
        }
        .await,
    )
}

async fn resource_types(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            Ok(scim_json(
                StatusCode::OK,
                &discovery::resource_type_list(&ctx.base),
            ))
        }
        .await,
    )
}

async fn resource_type(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    one_of(
        state,
        &app,
        &headers,
        &id,
        discovery::resource_types,
        |id| format!("no resource type {id:?}; there are User and Group"),
    )
    .await
}

async fn schemas(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, &app, &headers).await?;
            Ok(scim_json(
                StatusCode::OK,
                &discovery::schema_list(&ctx.base),
            ))
        }
        .await,
    )
}

async fn schema(
    State(state): State<AppState>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    one_of(state, &app, &headers, &id, discovery::schemas, |id| {
        format!("no schema {id:?}")
    })
    .await
}

/// The discovery document whose `id` is `id` among those `all` lists, or a SCIM 404
/// worded by `missing`.
async fn one_of(
    state: AppState,
    app: &str,
    headers: &HeaderMap,
    id: &str,
    all: fn(&str) -> Vec<serde_json::Value>,
    missing: impl FnOnce(&str) -> String,
) -> Response {
    answer(
        async {
            let ctx = Ctx::new(state, app, headers).await?;
            all(&ctx.base)
                .into_iter()
                .find(|doc| doc["id"] == id)
                .map(|doc| scim_json(StatusCode::OK, &doc))
                .ok_or_else(|| ScimError::not_found(missing(id)))
        }
        .await,
    )
}
