//! Property tests of the parsers that text from outside reaches in core: an apps
//! TOML file (written by an administrator, or sent to the API) and the username regex
//! with its replacement. Whatever the text, they answer a value or a field problem:
//! no panic, no stack overflow, and work bounded by the input (a regex whose compiled
//! form would be huge is refused, not built).

use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::app::apps_from_toml;
use crate::replace::Rewrite;

/// Enough cases to find the shallow bugs, few enough to keep CI fast.
fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// A TOML string literal holding `text`, escaped by the TOML library itself.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// One app whose every string field is chosen by the test.
fn app_file(fields: &[String; 7], cron: &str) -> String {
    let [name, okta_url, token, kind, target_url, regex, replacement] =
        fields.each_ref().map(|f| quoted(f));
    format!(
        "[[app]]\nname = {name}\nschedule = {{ cron = {} }}\n\n\
         [app.okta]\nurl = {okta_url}\ncredential = {{ type = \"api_token\", token = {token} }}\n\n\
         [app.target]\nkind = {kind}\nurl = {target_url}\n\
         credential = {{ type = \"basic\", username = \"admin\", password = \"pw\" }}\n\n\
         [app.policy.username]\nregex = {regex}\nreplacement = {replacement}\n",
        quoted(cron)
    )
}

/// Text that looks like regex syntax often enough to reach the compiler's corners.
fn regex_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("(?P<n>".to_owned()),
            Just("[^@]".to_owned()),
            Just("\\".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("{2,}".to_owned()),
            Just("{1000}".to_owned()),
            Just("*".to_owned()),
            Just("+?".to_owned()),
            Just("|".to_owned()),
            Just("^".to_owned()),
            Just("$".to_owned()),
            Just(".".to_owned()),
            Just("\\p{L}".to_owned()),
            "[a-z@.]{1,3}",
        ],
        0..24,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Replacement text: group references, escapes and literals.
fn replacement_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("$".to_owned()),
            Just("$$".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just("\\".to_owned()),
            "\\$[0-9]{1,3}",
            "\\$\\{[a-z0-9]{0,3}\\}",
            "[a-z@.]{1,3}",
        ],
        0..12,
    )
    .prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_an_apps_file_parses_or_is_refused_as_toml(text in "\\PC{0,2048}") {
        if let Err(problem) = apps_from_toml(&text) {
            prop_assert_eq!(problem.field, "toml");
        }
    }

    #[test]
    fn an_app_with_any_field_values_validates_or_names_a_field(
        fields in prop::array::uniform7("\\PC{0,40}"),
        cron in "[0-9*/,\\- ]{0,30}|\\PC{0,20}",
    ) {
        let drafts = apps_from_toml(&app_file(&fields, &cron));
        for draft in drafts.expect("string fields always make valid TOML") {
            if let Err(problem) = draft.validate() {
                prop_assert!(!problem.field.is_empty());
                prop_assert!(!problem.message.is_empty());
            }
        }
    }

    #[test]
    fn deep_nesting_in_an_apps_file_is_refused_without_overflowing_the_stack(
        depth in 1usize..20_000,
        table in any::<bool>(),
    ) {
        let (open, close) = if table { ("{a=", "}") } else { ("[", "]") };
        let text = format!("[[app]]\nname = {}1{}\n", open.repeat(depth), close.repeat(depth));
        prop_assert!(apps_from_toml(&text).is_err());
    }

    #[test]
    fn any_username_regex_and_replacement_compile_or_are_refused_and_apply_in_bounded_time(
        regex in regex_text(),
        replacement in replacement_text(),
        inputs in prop::collection::vec("\\PC{0,64}", 1..8),
    ) {
        let started = Instant::now();
        if let Ok(rewrite) = Rewrite::new(&regex, &replacement) {
            for input in &inputs {
                if let Some(out) = rewrite.apply(input) {
                    // Each match adds at most the replacement with every group filled
                    // by at most the whole input.
                    let matches = input.chars().count() + 1;
                    let bound = input.len() + matches * replacement.len() * (input.len() + 1);
                    prop_assert!(out.len() <= bound, "{} > {}", out.len(), bound);
                }
            }
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
}

#[test]
fn a_regex_with_huge_repetition_is_refused_quickly() {
    for regex in [
        "(a{1000}){1000}",
        "((a{100}){100}){100}",
        r"\w{65535}",
        "(.*){1000}{1000}",
    ] {
        let started = Instant::now();
        let refused = Rewrite::new(regex, "$0");
        assert!(refused.is_err(), "{regex} was compiled");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{regex} took {:?} to refuse",
            started.elapsed()
        );
    }
}
