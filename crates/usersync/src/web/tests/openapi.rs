//! The OpenAPI document: it lists every API route, and real responses validate
//! against the schemas it declares (a small JSON Schema checker covering what
//! utoipa generates: `$ref`, `type` (with null unions), `properties`,
//! `required`, `items`, `additionalProperties`, `enum`, `oneOf`/`anyOf`/`allOf`).

use axum::http::StatusCode;
use serde_json::Value;

use super::{Harness, get, route_rules};

/// Checks `value` against `schema`, collecting problems with their JSON paths.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling $ref {r}");
        return check(doc, target, value, path, problems);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(doc, s, value, path, problems);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema.get(key).and_then(Value::as_array) {
            let fits = any.iter().filter(|s| {
                let mut p = Vec::new();
                check(doc, s, value, path, &mut p);
                p.is_empty()
            });
            let n = fits.count();
            if n == 0 || (key == "oneOf" && n > 1) {
                problems.push(format!(
                    "{path}: {n} of the {key} alternatives match {value}"
                ));
            }
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !ok {
            problems.push(format!("{path}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check(doc, items, v, &format!("{path}[{i}]"), problems);
        }
    }
    if let Some(object) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                problems.push(format!("{path}: required property {name} is missing"));
            }
        }
        for (k, v) in object {
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(doc, s, v, &format!("{path}.{k}"), problems),
                (None, Some(extra)) if extra.is_object() => {
                    check(doc, extra, v, &format!("{path}.{k}"), problems)
                }
                (None, Some(Value::Bool(false))) => {
                    problems.push(format!("{path}: unexpected property {k}"))
                }
                _ => {}
            }
        }
    }
}

/// Asserts that a real API answer matches what the document declares for it.
pub fn assert_matches(doc: &Value, method: &str, template: &str, status: StatusCode, body: &str) {
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(!op.is_null(), "the document has no {method} {template}");
    let response = &op["responses"][status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {template} does not declare status {status}"
    );
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        assert!(
            body.is_empty(),
            "{method} {template} {status} declares no body but sent {body}"
        );
        return;
    };
    let value: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {template}: not JSON ({e}): {body}"));
    let mut problems = Vec::new();
    check(doc, schema, &value, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {template} {status} does not match the document:\n{}",
        problems.join("\n")
    );
}

pub async fn document(h: &Harness, token: &str) -> Value {
    let reply = h.call(get("/api/v1/openapi.json").bearer(token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

/// `/api/v1/apps/x/plan` -> `/api/v1/apps/{app}/plan`.
pub fn template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| match (i, parts.get(i.wrapping_sub(1))) {
            (_, Some(&"apps")) if i == 4 => "{app}".to_owned(),
            (_, Some(&"runs")) if i == 4 => "{id}".to_owned(),
            _ => (*p).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_describes_every_api_route_and_its_error_bodies() {
    let h = Harness::new().await;
    h.create_admin().await;
    let token = h.token().await;
    let doc = document(&h, &token).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for rule in route_rules(&h)
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/") && !r.path.ends_with("openapi.json"))
    {
        let (method, t) = (rule.method.as_str(), rule.path.to_owned());
        assert!(
            !doc["paths"][&t][method.to_lowercase()].is_null(),
            "{method} {t} is documented"
        );
        assert_matches(
            &doc,
            method,
            &t,
            StatusCode::UNAUTHORIZED,
            r#"{"code":"unauthenticated","message":"sign in"}"#,
        );
    }
    let missing = h.call(get("/api/v1/runs/7").bearer(&token)).await;
    assert_matches(
        &doc,
        "GET",
        "/api/v1/runs/{id}",
        missing.status,
        &missing.body,
    );
    let list = h.call(get("/api/v1/apps").bearer(&token)).await;
    assert_matches(&doc, "GET", "/api/v1/apps", list.status, &list.body);
}

#[test]
fn the_checker_refuses_values_that_do_not_fit() {
    let doc = serde_json::json!({ "components": { "schemas": { "A": { "type": "object", "required": ["n"], "properties": { "n": { "type": "integer" }, "s": { "type": ["string", "null"] } } } } } });
    let schema = serde_json::json!({ "$ref": "#/components/schemas/A" });
    let mut p = Vec::new();
    check(
        &doc,
        &schema,
        &serde_json::json!({ "n": 1, "s": null }),
        "$",
        &mut p,
    );
    assert!(p.is_empty(), "{p:?}");
    check(&doc, &schema, &serde_json::json!({ "s": 3 }), "$", &mut p);
    assert_eq!(p.len(), 2, "{p:?}");
}
