//! Event hook delivery: what Okta does with an ACTIVE, VERIFIED hook. Every System Log
//! event whose type a hook subscribes to is POSTed to the hook's URI in Okta's envelope
//! (`eventType: com.okta.event_hook`, `eventId`, `eventTime`, `cloudEventsVersion`,
//! `source`, `data.events[LogEvent]`) with the hook's custom headers and its
//! `authScheme` header carrying the shared secret verbatim. A delivery that times out
//! (3 s) or answers 5xx is retried once; 4xx is not retried; then it is given up, as
//! Okta gives up. Delivery is at least once and unordered in real Okta, so
//! [`DeliveryKnobs`] can duplicate, reorder and drop deliveries to test a receiver.
//! Each attempt is kept as a [`DeliveryRecord`] for tests to inspect.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;

use super::filter::format_time;
use super::hooks::EventHook;
use super::server::App;
use super::sim::OktaSim;
use super::state::now;

/// Okta's delivery timeout.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Fault injection for deliveries (all off by default: every delivery sent once, in order).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryKnobs {
    /// Chance (0 to 1) that a delivery is sent a second time, with the same `eventId`.
    pub duplicate_rate: f64,
    /// Chance (0 to 1) that a delivery is never sent (lost, as Okta may lose one).
    pub drop_rate: f64,
    /// Send the deliveries gathered in one batch window newest first.
    pub reorder: bool,
    /// How long to gather events after the first before delivering them (batches form
    /// only within this window; zero delivers what is already queued).
    pub batch_window: Duration,
    /// Events per delivery at most (Okta batches several events into one POST).
    pub max_events_per_delivery: usize,
    /// Seeds the dice of `duplicate_rate` and `drop_rate`.
    pub seed: u64,
}

impl Default for DeliveryKnobs {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.0,
            drop_rate: 0.0,
            reorder: false,
            batch_window: Duration::ZERO,
            max_events_per_delivery: 10,
            seed: 0,
        }
    }
}

/// What became of one delivery attempt series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx (after `attempts` tries).
    Delivered { status: u16, attempts: u32 },
    /// Given up: the last status (or `None` for a timeout or connection error).
    Failed { status: Option<u16>, attempts: u32 },
    /// Not sent, by the drop knob.
    Dropped,
}

/// One delivery as the emulator handled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    pub hook_id: String,
    /// The envelope's `eventId` (the same for a duplicate).
    pub event_id: String,
    /// The `uuid`s of the LogEvents inside.
    pub event_uuids: Vec<String>,
    pub event_types: Vec<String>,
    /// True for the second send of a duplicated delivery.
    pub duplicate: bool,
    pub outcome: DeliveryOutcome,
}

/// The delivery knobs, dice and records every handler shares.
pub struct Deliveries {
    knobs: Mutex<DeliveryKnobs>,
    rng: Mutex<ChaCha8Rng>,
    records: Mutex<Vec<DeliveryRecord>>,
}

impl Default for Deliveries {
    fn default() -> Self {
        Self {
            knobs: Mutex::new(DeliveryKnobs::default()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(0)),
            records: Mutex::new(Vec::new()),
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Deliveries {
    fn knobs(&self) -> DeliveryKnobs {
        locked(&self.knobs).clone()
    }

    fn roll(&self, chance: f64) -> bool {
        chance > 0.0 && locked(&self.rng).random_bool(chance.clamp(0.0, 1.0))
    }

    fn push(&self, record: DeliveryRecord) {
        locked(&self.records).push(record);
    }
}

impl OktaSim {
    /// Replaces the delivery knobs (and reseeds their dice).
    pub fn set_hook_delivery(&self, knobs: DeliveryKnobs) {
        let deliveries = &self.shared().deliveries;
        *locked(&deliveries.rng) = ChaCha8Rng::seed_from_u64(knobs.seed);
        *locked(&deliveries.knobs) = knobs;
    }

    /// Every delivery so far, oldest first.
    pub fn hook_deliveries(&self) -> Vec<DeliveryRecord> {
        locked(&self.shared().deliveries.records).clone()
    }
}

/// Starts delivering: subscribes to the System Log now (so no later event is missed)
/// and runs until aborted.
pub fn spawn(app: App) -> JoinHandle<()> {
    let events = app.org().log.subscribe();
    tokio::spawn(deliver_forever(app, events))
}

async fn deliver_forever(app: App, mut events: broadcast::Receiver<Value>) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("event hook delivery cannot start: {e}");
            return;
        }
    };
    loop {
        let first = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!("event hook delivery fell behind and skipped {missed} events");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let knobs = app.deliveries.knobs();
        if !knobs.batch_window.is_zero() {
            tokio::time::sleep(knobs.batch_window).await;
        }
        let mut batch = vec![first];
        while let Ok(event) = events.try_recv() {
            batch.push(event);
        }
        let hooks = app.org().hooks.deliverable();
        for hook in hooks {
            deliver_to(&app, &client, &hook, &batch, &knobs).await;
        }
    }
}

fn event_type(event: &Value) -> &str {
    event
        .get("eventType")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Sends the hook its share of `batch`, in deliveries of at most the configured size.
async fn deliver_to(
    app: &App,
    client: &reqwest::Client,
    hook: &EventHook,
    batch: &[Value],
    knobs: &DeliveryKnobs,
) {
    let wanted: Vec<&Value> = batch
        .iter()
        .filter(|e| hook.event_types.iter().any(|t| t == event_type(e)))
        .collect();
    let mut chunks: Vec<&[&Value]> = wanted
        .chunks(knobs.max_events_per_delivery.max(1))
        .collect();
    if knobs.reorder {
        chunks.reverse();
    }
    for chunk in chunks {
        let envelope = envelope(&app.base_url, hook, chunk);
        let mut record = DeliveryRecord {
            hook_id: hook.id.clone(),
            event_id: envelope["eventId"].as_str().unwrap_or_default().to_owned(),
            event_uuids: chunk
                .iter()
                .filter_map(|e| e.get("uuid").and_then(Value::as_str))
                .map(str::to_owned)
                .collect(),
            event_types: chunk.iter().map(|e| event_type(e).to_owned()).collect(),
            duplicate: false,
            outcome: DeliveryOutcome::Dropped,
        };
        if app.deliveries.roll(knobs.drop_rate) {
            app.deliveries.push(record);
            continue;
        }
        record.outcome = send(client, hook, &envelope).await;
        app.deliveries.push(record.clone());
        if app.deliveries.roll(knobs.duplicate_rate) {
            record.duplicate = true;
            record.outcome = send(client, hook, &envelope).await;
            app.deliveries.push(record);
        }
    }
}

/// Okta's envelope around LogEvents (which gain `insertionTimestamp`, null, in hooks).
fn envelope(base_url: &str, hook: &EventHook, events: &[&Value]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut e = (*e).clone();
            e["insertionTimestamp"] = Value::Null;
            e
        })
        .collect();
    json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": format!("{base_url}/api/v1/eventHooks/{}", hook.id),
        "eventId": uuid::Uuid::new_v4().to_string(),
        "eventTime": format_time(now()),
        "contentType": "application/json",
        "data": {"events": events},
    })
}

/// POSTs one delivery; one retry after a timeout, a connection error or a 5xx.
async fn send(client: &reqwest::Client, hook: &EventHook, envelope: &Value) -> DeliveryOutcome {
    let mut last = None;
    for attempt in 1..=2 {
        let mut request = client
            .post(&hook.uri)
            .header("accept", "application/json")
            .json(envelope);
        for (k, v) in &hook.headers {
            request = request.header(k, v);
        }
        if let Some((k, v)) = &hook.auth {
            request = request.header(k, v);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                return DeliveryOutcome::Delivered {
                    status: response.status().as_u16(),
                    attempts: attempt,
                };
            }
            Ok(response) if response.status().is_client_error() => {
                return DeliveryOutcome::Failed {
                    status: Some(response.status().as_u16()),
                    attempts: attempt,
                };
            }
            Ok(response) => last = Some(response.status().as_u16()),
            Err(_) => last = None,
        }
    }
    DeliveryOutcome::Failed {
        status: last,
        attempts: 2,
    }
}
