//! Migration 0002 on a database written before secrets were bound to origins.

use std::path::Path;

use secrecy::ExposeSecret as _;
use sqlx::migrate::Migrator;

use super::*;
use crate::db::connect_file;
use crate::{DATABASE_FILE, Store};

const LEGACY_TOKEN: &str = "legacy-okta-token-31337";

/// A database at schema version 1 with one app, its Okta token sealed the old way and
/// its target token as a reference.
async fn version_one_database(dir: &Path, key: &MasterKey) {
    let only_first = tempfile::tempdir().unwrap();
    let first = "0001_initial.sql";
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/sqlite")
            .join(first),
        only_first.path().join(first),
    )
    .unwrap();
    let db = connect_file(&dir.join(DATABASE_FILE)).await.unwrap();
    Migrator::new(only_first.path())
        .await
        .unwrap()
        .run(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO apps (id, name, name_folded, okta_url, okta_auth, target_kind, target_url, \
         target_auth, schedule_json, policy_json, events_json, created_at, updated_at) \
         VALUES (1, 'Jira', 'jira', 'https://example.okta.com/', 'api_token', 'jira', \
         'https://jira.example.com:8443/jira', 'pat', '\"manual\"', '{}', '{}', $1, $1)",
    )
    .bind(Ts::now())
    .execute(&db)
    .await
    .unwrap();
    let slot = SecretSlot::OktaApiToken;
    let (nonce, sealed) = key
        .seal(&aad(AppId(1), slot, None), LEGACY_TOKEN.as_bytes())
        .unwrap();
    sqlx::query(
        "INSERT INTO app_secrets (app_id, slot, reference, nonce, ciphertext, updated_at) \
         VALUES (1, $1, NULL, $2, $3, $4), (1, 'target.credential.token', 'env:JIRA_PAT', NULL, NULL, $4)",
    )
    .bind(slot.field())
    .bind(nonce)
    .bind(sealed)
    .bind(Ts::now())
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
}

#[tokio::test]
async fn existing_secrets_are_bound_to_their_apps_origins_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    version_one_database(dir.path(), &key).await;

    let store = Store::open_with_key(dir.path(), key.clone()).await.unwrap();

    let mut conn = store.db.acquire().await.unwrap();
    let rows = load_rows(&mut conn, AppId(1)).await.unwrap();
    drop(conn);
    let okta = &rows[&SecretSlot::OktaApiToken];
    assert_eq!(okta.origin, "https://example.okta.com");
    assert!(okta.origin_in_aad, "re-sealed with the origin at open");
    assert_eq!(
        rows[&SecretSlot::TargetToken].origin,
        "https://jira.example.com:8443"
    );
    let app = store.get_app(AppId(1)).await.unwrap();
    let token = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), LEGACY_TOKEN);
    // The re-sealed value opens only for its origin.
    let (Some(nonce), Some(sealed)) = (&okta.nonce, &okta.ciphertext) else {
        panic!("a sealed value");
    };
    let elsewhere = aad(
        AppId(1),
        SecretSlot::OktaApiToken,
        Some("https://evil.example"),
    );
    assert!(key.open(&elsewhere, nonce, sealed).is_err());
}

#[tokio::test]
async fn a_secret_is_not_resolved_for_an_app_moved_to_another_origin_behind_the_stores_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    version_one_database(dir.path(), &key).await;
    let store = Store::open_with_key(dir.path(), key).await.unwrap();
    sqlx::query("UPDATE apps SET okta_url = 'https://evil.example/' WHERE id = 1")
        .execute(&store.db)
        .await
        .unwrap();
    let app = store.get_app(AppId(1)).await.unwrap();
    let err = store
        .resolve_secret(&app, SecretSlot::OktaApiToken)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "okta.credential.token: the Okta URL changed from https://example.okta.com to \
         https://evil.example; enter the token again"
    );
}
