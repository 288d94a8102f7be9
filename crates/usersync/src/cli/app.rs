//! `usersync app ...`: configuration as code. Apps are created and updated from a
//! TOML file, exported back (secret values never leave the store), listed, shown
//! and deleted.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use usersync_store::{App, SecretState, Store, StoreError, apps_from_toml, apps_to_toml};

use super::output::{self, Format, Table};
use super::{Exit, Global, actor, app_named};

/// Manage the apps (sync configurations).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AppCommand,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create or update apps from a TOML file of [[app]] tables.
    #[command(
        long_about = "Creates or updates apps from a TOML file of [[app]] tables. Secrets are \
`env:NAME` or `file:/path` references, or values (stored encrypted); a secret left out keeps the \
stored one. Every app in the file is validated before any is changed. References that cannot be \
resolved in this shell are reported as warnings (the service may run with other settings).\n\n\
A minimal file:\n\n\
  [[app]]\n\
  name = \"jira\"\n\
  [app.okta]\n\
  url = \"https://example.okta.com\"\n\
  credential = { type = \"api_token\", token = \"env:OKTA_API_TOKEN\" }\n\
  [app.target]\n\
  kind = \"jira\"                      # or \"confluence\"\n\
  url = \"https://jira.example.com\"\n\
  credential = { type = \"pat\", token = \"env:JIRA_PAT\" }\n\
  # or { type = \"basic\", username = \"svc-usersync\", password = \"env:JIRA_PASSWORD\" }\n\
  [app.policy.username]\n\
  regex = '^([^@]+)@example\\.com$'\n\
  replacement = \"$1\"\n\n\
`usersync app export` prints every setting with its default."
    )]
    Apply {
        /// The TOML file (`-` reads stdin).
        #[arg(short, long = "file", value_name = "FILE")]
        file: PathBuf,
    },
    /// Print every app (or one) as TOML that `app apply` reads back; secret values are never written.
    Export {
        /// Only this app.
        #[arg(long)]
        app: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(short, long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the apps.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Show one app's settings (secrets only as set / stored / a reference).
    Show {
        /// The app's name (`usersync app list` shows them).
        name: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Delete an app with its links and run history.
    Delete {
        /// The app's name (`usersync app list` shows them).
        name: String,
    },
    /// Generate the app's SCIM bearer token for Okta's SCIM provisioning, printed once.
    #[command(
        long_about = "Generates the bearer token Okta's SCIM app sends to /scim/v2/APP (the \
`Authorization: Bearer <token>` header) and prints it once; only its hash is stored. Running it \
again rotates the token: the old one stops working at once, so paste the new one into Okta."
    )]
    ScimToken {
        /// The app's name (`usersync app list` shows them).
        name: String,
    },
}

/// Runs the command.
///
/// # Errors
/// Unreadable files, validation errors naming the field, unknown apps.
pub async fn run(args: Args, global: &Global) -> anyhow::Result<Exit> {
    let store = global.open_store().await?;
    match args.command {
        AppCommand::Apply { file } => apply(&store, &file).await?,
        AppCommand::Export { app, out } => export(&store, app, out).await?,
        AppCommand::List { output: format } => {
            let apps = store.list_apps().await?;
            match format {
                Format::Json => super::json::print_list("apps", &super::json::without_ids(&apps)?)?,
                Format::Text if apps.is_empty() => {
                    output::print(
                        "no apps yet; create one with `usersync app apply -f apps.toml`\n",
                    );
                }
                Format::Text => output::print(&list_table(&apps).render()),
            }
        }
        AppCommand::Show {
            name,
            output: format,
        } => {
            let app = app_named(&store, &name).await?;
            match format {
                Format::Json => super::json::print(&super::json::without_id(&app)?)?,
                Format::Text => output::print(&show(&app)),
            }
        }
        AppCommand::Delete { name } => {
            let app = app_named(&store, &name).await?;
            store.delete_app(app.id, &actor()).await?;
            output::print(&format!("deleted: {}\n", app.name));
        }
        AppCommand::ScimToken { name } => {
            let app = app_named(&store, &name).await?;
            let token = crate::scim::auth::generate(&store, &app, &actor()).await?;
            output::print(&format!(
                "SCIM token for {} (shown once; running this again replaces it):\n{token}\n\n\
                 In Okta's SCIM app: base URL https://<usersync host>/scim/v2/{}, \
                 Authorization header `Bearer <token>`.\n",
                app.name, app.name
            ));
        }
    }
    Ok(Exit::Ok)
}

async fn apply(store: &Store, file: &Path) -> anyhow::Result<()> {
    let text = read_input(file)?;
    let source = source_name(file);
    let drafts = apps_from_toml(&text).with_context(|| format!("reading {source}"))?;
    if drafts.is_empty() {
        anyhow::bail!(
            "{source} has no [[app]] tables; `usersync app apply --help` shows a minimal file"
        );
    }
    for draft in &drafts {
        for (field, why) in usersync_store::unresolved_references(draft) {
            eprintln!("usersync: warning: app {:?}: {field}: {why}", draft.name);
        }
    }
    let names: Vec<String> = drafts.iter().map(|d| d.name.clone()).collect();
    let report = store
        .apply_apps(drafts, &actor())
        .await
        .map_err(|e| name_the_app(e, &names, &source))?;
    let groups = [
        ("created", &report.created),
        ("updated", &report.updated),
        ("unchanged", &report.unchanged),
    ];
    for (word, names) in groups {
        for name in names {
            output::print(&format!("{word}: {name}\n"));
        }
    }
    Ok(())
}

fn source_name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "standard input".into()
    } else {
        file.display().to_string()
    }
}

/// A validation error's field starts `app[i].`; say which app that is, by name.
fn name_the_app(error: StoreError, names: &[String], source: &str) -> anyhow::Error {
    let index = match &error {
        StoreError::Validation { field, .. } => field
            .strip_prefix("app[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(i, _)| i.parse::<usize>().ok()),
        _ => None,
    };
    match index.and_then(|i| names.get(i).map(|name| (i, name))) {
        Some((i, name)) => anyhow::Error::new(error).context(format!(
            "{source}: app {name:?} (the [[app]] table number {}) was refused; nothing was changed",
            i + 1
        )),
        None => anyhow::Error::new(error),
    }
}

async fn export(store: &Store, app: Option<String>, out: Option<PathBuf>) -> anyhow::Result<()> {
    let apps = match app {
        Some(name) => vec![app_named(store, &name).await?],
        None => store.list_apps().await?,
    };
    let text = apps_to_toml(&apps);
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => output::print(&text),
    }
    Ok(())
}

fn read_input(file: &Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).context("reading the apps from stdin");
    }
    std::fs::read_to_string(file).map_err(|e| {
        anyhow::anyhow!(
            "could not read the apps file {} ({e}); give -f the path of a readable TOML file \
             of [[app]] tables, or - for standard input",
            file.display()
        )
    })
}

fn list_table(apps: &[App]) -> Table {
    let mut table = Table::new(["name", "target", "okta", "schedule"]);
    for app in apps {
        table.row([
            app.name.clone(),
            format!("{} {}", app.target.kind, app.target.url),
            app.okta.url.to_string(),
            schedule(app),
        ]);
    }
    table
}

fn schedule(app: &App) -> String {
    match &app.schedule {
        usersync_store::Schedule::Manual => "manual".into(),
        usersync_store::Schedule::EveryMinutes(n) => format!("every {n} min"),
        usersync_store::Schedule::Cron(c) => format!("cron {c}"),
    }
}

fn secret_word(state: &SecretState) -> String {
    match state {
        SecretState::Unset => "not set".into(),
        SecretState::Stored => "stored (encrypted)".into(),
        SecretState::Reference(r) => format!("reference {r}"),
    }
}

fn show(app: &App) -> String {
    let mut out = format!(
        "app: {}\nokta: {}\ntarget: {} {}\nschedule: {}\n",
        app.name,
        app.okta.url,
        app.target.kind,
        app.target.url,
        schedule(app)
    );
    for (slot, state) in app.secret_states() {
        out.push_str(&format!(
            "secret {}: {}\n",
            slot.field(),
            secret_word(state)
        ));
    }
    out.push_str("\nfull settings (as `app export` writes them):\n\n");
    out.push_str(&apps_to_toml(std::slice::from_ref(app)));
    out
}
