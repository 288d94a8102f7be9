//! The TOML of one `[[app]]`, as an administrator's apps file holds it: a builder
//! with the defaults most tests want (Jira, basic auth as the emulator's admin, the
//! default policy, manual schedule) and a method for each thing tests change.

use std::fmt;

/// One app's TOML; `to_string()` gives the text `apps_from_toml` reads.
#[derive(Debug, Clone)]
pub struct AppToml {
    name: String,
    schedule: Option<String>,
    okta_url: String,
    okta_token: String,
    kind: String,
    target_url: String,
    username: String,
    password: String,
    /// `basic` (username and password) or `application` (Crowd's name and password).
    credential_type: &'static str,
    okta_ca_file: Option<String>,
    target_ca_file: Option<String>,
    /// Jira's user-server application: name and password as written.
    user_server: Option<(String, String)>,
    sections: Vec<String>,
}

/// `text` as a TOML basic string, quoted and escaped (regexes keep their backslashes).
#[must_use]
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

impl AppToml {
    /// An app named `name` reading Okta at `okta_url` with an API token, writing to a
    /// Jira at `target_url` as `admin`/`admin` (the emulators' default administrator).
    #[must_use]
    pub fn new(name: &str, okta_url: &str, okta_token: &str, target_url: &str) -> Self {
        Self {
            name: name.to_owned(),
            schedule: None,
            okta_url: okta_url.to_owned(),
            okta_token: okta_token.to_owned(),
            kind: "jira".to_owned(),
            target_url: target_url.to_owned(),
            username: "admin".to_owned(),
            password: "admin".to_owned(),
            credential_type: "basic",
            okta_ca_file: None,
            target_ca_file: None,
            user_server: None,
            sections: Vec::new(),
        }
    }

    /// The target's kind (`jira` unless changed), e.g. `confluence`.
    #[must_use]
    pub fn kind(mut self, kind: &str) -> Self {
        kind.clone_into(&mut self.kind);
        self
    }

    /// The Okta API token as written: a value, or a reference such as `env:NAME`.
    #[must_use]
    pub fn okta_token(mut self, token: &str) -> Self {
        token.clone_into(&mut self.okta_token);
        self
    }

    /// The target's basic credential as written (the password may be a reference).
    #[must_use]
    pub fn basic(mut self, username: &str, password: &str) -> Self {
        username.clone_into(&mut self.username);
        password.clone_into(&mut self.password);
        self
    }

    /// The target's bearer token as written (SCIM and Atlassian Cloud targets).
    #[must_use]
    pub fn bearer(mut self, token: &str) -> Self {
        self.credential_type = "bearer";
        token.clone_into(&mut self.password);
        self
    }

    /// A Crowd target signed in to as the application `name` with `password`.
    #[must_use]
    pub fn crowd_application(mut self, name: &str, password: &str) -> Self {
        "crowd".clone_into(&mut self.kind);
        self.credential_type = "application";
        name.clone_into(&mut self.username);
        password.clone_into(&mut self.password);
        self
    }

    /// `okta.ca_file`: an extra CA bundle trusted for Okta.
    #[must_use]
    pub fn okta_ca_file(mut self, path: &str) -> Self {
        self.okta_ca_file = Some(path.to_owned());
        self
    }

    /// `target.ca_file`: an extra CA bundle trusted for the target.
    #[must_use]
    pub fn target_ca_file(mut self, path: &str) -> Self {
        self.target_ca_file = Some(path.to_owned());
        self
    }

    /// The schedule, as the TOML value after `schedule =`, e.g. `{ every_minutes = 1 }`.
    #[must_use]
    pub fn schedule(mut self, value: &str) -> Self {
        self.schedule = Some(value.to_owned());
        self
    }

    /// Jira's user-server application (`target.user_server`), through which a Jira before
    /// 8.3 deactivates; the password as written (a value or a reference).
    #[must_use]
    pub fn jira_user_server(mut self, name: &str, password: &str) -> Self {
        self.user_server = Some((name.to_owned(), password.to_owned()));
        self
    }

    /// The username mapping: `regex` and `replacement` under `[app.policy.username]`.
    #[must_use]
    pub fn username(self, regex: &str, replacement: &str) -> Self {
        let section = format!(
            "[app.policy.username]\nregex = {}\nreplacement = {}\n",
            toml_string(regex),
            toml_string(replacement)
        );
        self.section(&section)
    }

    /// Extra TOML inside the app (whole `[app.…]` tables), appended after the target.
    #[must_use]
    pub fn section(mut self, toml: &str) -> Self {
        self.sections.push(toml.to_owned());
        self
    }
}

impl fmt::Display for AppToml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "[[app]]\nname = {}", toml_string(&self.name))?;
        if let Some(schedule) = &self.schedule {
            writeln!(f, "schedule = {schedule}")?;
        }
        writeln!(
            f,
            "\n[app.okta]\nurl = {}\ncredential = {{ type = \"api_token\", token = {} }}",
            toml_string(&self.okta_url),
            toml_string(&self.okta_token)
        )?;
        if let Some(path) = &self.okta_ca_file {
            writeln!(f, "ca_file = {}", toml_string(path))?;
        }
        let credential = match self.credential_type {
            "bearer" => format!(
                "{{ type = \"bearer\", token = {} }}",
                toml_string(&self.password)
            ),
            kind => format!(
                "{{ type = \"{kind}\", {} = {}, password = {} }}",
                if kind == "application" {
                    "name"
                } else {
                    "username"
                },
                toml_string(&self.username),
                toml_string(&self.password)
            ),
        };
        writeln!(
            f,
            "\n[app.target]\nkind = {}\nurl = {}\ncredential = {credential}",
            toml_string(&self.kind),
            toml_string(&self.target_url),
        )?;
        if let Some(path) = &self.target_ca_file {
            writeln!(f, "ca_file = {}", toml_string(path))?;
        }
        if let Some((name, password)) = &self.user_server {
            writeln!(
                f,
                "user_server = {{ name = {}, password = {} }}",
                toml_string(name),
                toml_string(password)
            )?;
        }
        for section in &self.sections {
            writeln!(f, "\n{section}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regex_keeps_its_backslashes_and_quotes_through_toml() {
        let text = AppToml::new("a", "http://o", "t", "http://j")
            .username(r#"^([^@"]+)@example\.com$"#, "$1")
            .to_string();
        let value: toml::Table = text.parse().expect("valid TOML");
        let app = &value["app"].as_array().expect("an app list")[0];
        assert_eq!(
            app["policy"]["username"]["regex"].as_str(),
            Some(r#"^([^@"]+)@example\.com$"#)
        );
        assert_eq!(app["target"]["kind"].as_str(), Some("jira"));
    }
}
