//! `usersync completions` and `usersync man`: generated from the command line's
//! definition, so each lists every command the binary has.

use std::process::Command;

use clap::CommandFactory as _;
use tempfile::TempDir;
use usersync::cli::Cli;

use crate::cli::{text, usersync_with};

/// Every visible top-level command, e.g. `sync-user`.
fn commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish_offer_every_command() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = usersync_with(dir.path(), &["completions", shell], &[]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains("usersync"), "{shell}: {script}");
        for command in commands() {
            assert!(script.contains(&command), "{shell} script lacks {command}");
        }
        // Nested commands and options are completed too (fish spells `--app` `-l app`).
        let app_option = script.contains("--app") || script.contains("-l app");
        assert!(script.contains("approve") && app_option, "{shell}");
    }
    let out = usersync_with(dir.path(), &["completions", "tcsh"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bash"), "{}", text(&out.stderr));
}

#[test]
fn the_man_page_is_roff_that_lists_every_command_and_renders() {
    let dir = TempDir::new().unwrap();
    let out = usersync_with(dir.path(), &["man"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    for header in [
        ".TH usersync 1",
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(header), "no {header:?} in\n{page}");
    }
    for command in commands() {
        assert!(
            page.contains(&format!("usersync\\-{}(1)", command.replace('-', "\\-"))),
            "the page does not list {command}:\n{page}"
        );
    }
    // `man -l` renders it when man is installed (the CI image has it); without man
    // the roff structure above is what can be checked.
    let man = Command::new("man").arg("--version").output().is_ok();
    if usersync_testkit::needed("man", man, "install man-db to render the page") {
        let file = dir.path().join("usersync.1");
        std::fs::write(&file, &page).unwrap();
        let rendered = Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(&file)
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{}", text(&rendered.stderr));
        let shown = text(&rendered.stdout);
        assert!(shown.contains("SUBCOMMANDS"), "{shown}");
        assert!(shown.contains("usersync-sync-user(1)"), "{shown}");
    }
}

#[test]
fn man_out_dir_writes_one_page_per_command_and_subcommand() {
    let dir = TempDir::new().unwrap();
    let pages = dir.path().join("man1");
    let out = usersync_with(
        dir.path(),
        &["man", "--out-dir", pages.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut expected = vec!["usersync.1".to_owned()];
    expected.extend(commands().iter().map(|c| format!("usersync-{c}.1")));
    expected.extend([
        "usersync-run-approve.1".to_owned(),
        "usersync-token-create.1".to_owned(),
    ]);
    for name in expected {
        let page =
            std::fs::read_to_string(pages.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            page.starts_with(".ie") || page.contains(".TH"),
            "{name}: {page}"
        );
    }
}
