//! An app's live run page: the run going on now, whoever started it (this console,
//! the API, the scheduler, an event, or `usersync sync` in another process sharing
//! the store), read from the store's progress columns that the running process
//! writes (`engine::live`), and fed to the page over server-sent events.
//!
//! What the store cannot know, this console's own Synchronize knows: the moment
//! between the button and the run's row ("starting"), and a run that could not start
//! at all (`LiveState::Failed`).

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;

use super::runs::FlashQuery;
use super::{Shell, flash_from_query};
use crate::web::adapter::runs::LiveRun;
use crate::web::auth::Admin;
use crate::web::backend::{BackendResult, ProgressEvent};
use crate::web::error::{PageError, render};
use crate::web::model::RunView;
use crate::web::state::{AppState, LiveState};

/// How often the events stream reads the store.
const POLL: Duration = Duration::from_millis(500);
/// A running run whose progress was not written for this long is said to be quiet.
const QUIET_SECONDS: i64 = 30;

/// What the page shows.
enum Shown {
    Running(Box<LiveRun>),
    Starting,
    Failed(String),
    Finished(Box<RunView>),
    Nothing,
}

/// The running run in the store, else this console's own start or failure (when newer
/// than the app's latest run), else the latest run.
async fn shown(state: &AppState, app: &str) -> BackendResult<Shown> {
    if let Some(live) = state.backend.running_run(app).await? {
        return Ok(Shown::Running(Box::new(live)));
    }
    let latest = state.backend.latest_run(app).await?;
    let here = state.live.watch(app).map(|rx| rx.borrow().clone());
    Ok(match (here, latest) {
        (Some(LiveState::Running(_)), _) => Shown::Starting,
        (Some(LiveState::Failed(message, at)), latest)
            if latest.as_ref().is_none_or(|r| r.started_at < at) =>
        {
            Shown::Failed(message)
        }
        (_, Some(run)) => Shown::Finished(Box::new(run)),
        (_, None) => Shown::Nothing,
    })
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePage<'a> {
    shell: &'a Shell,
    app: &'a str,
    phase: &'a str,
    message: String,
    /// The running run (its id, trigger) or the finished one.
    run: Option<RunView>,
    /// Set when the running process has not written progress for a while.
    quiet: Option<i64>,
}

/// `GET /apps/{name}/live`: the app's run going on now, live until its summary.
pub async fn live(
    State(state): State<AppState>,
    Extension(admin): Extension<Admin>,
    Path(name): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let mut shell = Shell::for_admin(&admin, "apps");
    shell.flash = flash_from_query(q.flash.as_deref());
    let shown = match shown(&state, &name).await {
        Ok(shown) => shown,
        Err(e) => return PageError::new(&shell, e).into_response(),
    };
    let (phase, message, run, quiet) = match shown {
        Shown::Running(live) => (
            "running",
            live.progress.message,
            Some(live.run),
            (live.quiet_seconds >= QUIET_SECONDS).then_some(live.quiet_seconds),
        ),
        Shown::Starting => ("running", "starting".to_owned(), None, None),
        Shown::Failed(message) => ("failed", message, None, None),
        Shown::Finished(run) => ("finished", String::new(), Some(*run), None),
        Shown::Nothing => ("none", String::new(), None, None),
    };
    render(&LivePage {
        shell: &shell,
        app: &name,
        phase,
        message,
        run,
        quiet,
    })
}

/// `GET /apps/{name}/live/events`: `progress` events while a run of the app goes on
/// (each when its line changes), then one `done` with the run as it ended.
pub async fn live_events(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match shown(&state, &name).await {
        Ok(Shown::Nothing) => (StatusCode::NOT_FOUND, "this app has no run yet").into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
        Ok(_) => Sse::new(live_stream(state, name))
            .keep_alive(KeepAlive::default())
            .into_response(),
    }
}

/// Where the stream is: the run it follows and the last line it sent.
struct Follow {
    state: AppState,
    app: String,
    following: Option<i64>,
    last: Option<ProgressEvent>,
}

fn done(data: &impl serde::Serialize) -> Event {
    Event::default()
        .event("done")
        .json_data(data)
        .unwrap_or_default()
}

fn live_stream(state: AppState, app: String) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = Follow {
        state,
        app,
        following: None,
        last: None,
    };
    futures::stream::unfold(Some(start), |follow| async move {
        let mut f = follow?;
        loop {
            match next_event(&mut f).await {
                Next::Send(event) => return Some((Ok(event), Some(f))),
                Next::End(event) => return Some((Ok(event), None)),
                Next::Wait => tokio::time::sleep(POLL).await,
            }
        }
    })
}

enum Next {
    Send(Event),
    End(Event),
    Wait,
}

async fn next_event(f: &mut Follow) -> Next {
    let shown = match shown(&f.state, &f.app).await {
        Ok(shown) => shown,
        Err(e) => return Next::End(done(&serde_json::json!({ "error": e.to_string() }))),
    };
    match shown {
        Shown::Running(live) => {
            f.following = Some(live.run.id);
            if f.last.as_ref() == Some(&live.progress) {
                return Next::Wait;
            }
            f.last = Some(live.progress.clone());
            Next::Send(
                Event::default()
                    .event("progress")
                    .json_data(&live.progress)
                    .unwrap_or_default(),
            )
        }
        Shown::Starting => Next::Wait,
        Shown::Failed(message) => Next::End(done(&serde_json::json!({ "error": message }))),
        Shown::Finished(run) => Next::End(done(&*run)),
        Shown::Nothing => Next::End(done(&serde_json::json!({}))),
    }
}
