//! Attribute templates: how an Okta user's profile becomes the target's display name
//! and e-mail (`policy.attributes.display_name`, `policy.attributes.email`).
//!
//! A setting is either a bare Okta profile attribute name (`displayName`,
//! `employeeEmail`: the form every app had before templates) or a small template
//! (`{firstName} {lastName}`, `{nickName} ({department})`) whose placeholders are
//! profile attributes, custom ones included. It is parsed once, at the boundary
//! (policy compilation), into a [`Template`]: a hostile or mistyped setting is refused
//! with the field and the fix before any run, never per user. Which attributes exist
//! is known only to the Okta org; [`ProfileSchema`] is what `check` reads from Okta's
//! user schema, and [`Template::unknown_in`] names the placeholders it lacks.

use std::collections::BTreeSet;
use std::fmt;

use crate::snapshot::OktaUser;

/// The longest template accepted, in characters (a display name is at most 255 in
/// the products; a template is shorter than what it renders only by its braces).
pub const MAX_TEMPLATE_CHARS: usize = 256;
/// The most placeholders one template may have.
pub const MAX_PLACEHOLDERS: usize = 16;
/// The longest attribute name accepted (Okta's variable names are far shorter).
const MAX_NAME_CHARS: usize = 100;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Attribute(String),
}

/// A parsed attribute setting: a bare attribute name or a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    /// True for a bare attribute name (no braces): its value is used as it is.
    bare: bool,
    pieces: Vec<Piece>,
}

/// Why a setting is not a usable attribute name or template. Each message says the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("is {len} characters long; at most {MAX_TEMPLATE_CHARS} are allowed")]
    TooLong { len: usize },
    #[error("has {count} placeholders; at most {MAX_PLACEHOLDERS} are allowed")]
    TooManyPlaceholders { count: usize },
    #[error(
        "has a `{{` at character {at} that is never closed; close it with `}}`, or write `{{{{` for a literal brace"
    )]
    Unclosed { at: usize },
    #[error("has a `}}` at character {at} that closes nothing; write `}}}}` for a literal brace")]
    StrayClose { at: usize },
    #[error(
        "has an empty placeholder `{{}}`; name an Okta profile attribute inside, e.g. {{firstName}}"
    )]
    EmptyPlaceholder,
    #[error(
        "has the placeholder {{{name}}}, which is not an Okta attribute name (a letter, then letters, digits or _); fix the spelling"
    )]
    BadName { name: String },
    #[error(
        "{value:?} is neither an Okta profile attribute name nor a template; write an attribute name such as displayName, or a template such as {{firstName}} {{lastName}}"
    )]
    NotANameOrTemplate { value: String },
    #[error("contains a control character; remove it")]
    Control,
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_NAME_CHARS
}

impl Template {
    /// Parses a setting: a bare attribute name, or text with `{attribute}`
    /// placeholders (`{{` and `}}` stand for literal braces).
    ///
    /// # Errors
    /// A [`TemplateError`] saying what is wrong and how to fix it.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let len = source.chars().count();
        if len > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong { len });
        }
        if source.chars().any(char::is_control) {
            return Err(TemplateError::Control);
        }
        let trimmed = source.trim();
        if !trimmed.contains(['{', '}']) {
            if !is_attribute_name(trimmed) {
                return Err(TemplateError::NotANameOrTemplate {
                    value: trimmed.to_owned(),
                });
            }
            return Ok(Self {
                source: trimmed.to_owned(),
                bare: true,
                pieces: vec![Piece::Attribute(trimmed.to_owned())],
            });
        }
        let pieces = pieces(source)?;
        let count = pieces
            .iter()
            .filter(|p| matches!(p, Piece::Attribute(_)))
            .count();
        if count > MAX_PLACEHOLDERS {
            return Err(TemplateError::TooManyPlaceholders { count });
        }
        Ok(Self {
            source: source.to_owned(),
            bare: false,
            pieces,
        })
    }

    /// The setting as written.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True for a bare attribute name.
    #[must_use]
    pub fn is_bare(&self) -> bool {
        self.bare
    }

    /// The profile attributes it reads, in order of first use, each once.
    #[must_use]
    pub fn attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for piece in &self.pieces {
            if let Piece::Attribute(name) = piece
                && !out.contains(&name.as_str())
            {
                out.push(name);
            }
        }
        out
    }

    /// The placeholders `schema` does not have, in order (empty when all are known).
    #[must_use]
    pub fn unknown_in(&self, schema: &ProfileSchema) -> Vec<String> {
        self.attributes()
            .into_iter()
            .filter(|a| !schema.has(a))
            .map(str::to_owned)
            .collect()
    }

    /// The template filled in from `user`'s profile: whitespace runs become one space
    /// and the ends are trimmed. `None` when `all_required` and an attribute is
    /// missing, or when no attribute has a value (nothing of the user's would show).
    #[must_use]
    pub fn render(&self, user: &OktaUser, all_required: bool) -> Option<String> {
        let mut text = String::new();
        let mut found = false;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Attribute(name) => match value_of(user, name) {
                    Some(v) => {
                        found = true;
                        text.push_str(v.trim());
                    }
                    None if all_required => return None,
                    None => {}
                },
            }
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (found && !text.is_empty()).then_some(text)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A profile attribute of the user; `login` is always there.
fn value_of<'a>(user: &'a OktaUser, name: &str) -> Option<&'a str> {
    user.attribute(name)
        .or_else(|| (name == "login").then_some(user.login.as_str()))
}

fn pieces(source: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = source.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(TemplateError::StrayClose { at: at + 1 }),
            '{' => {
                let mut name = String::new();
                let closed = loop {
                    match chars.next() {
                        Some((_, '}')) => break true,
                        Some((_, '{')) | None => break false,
                        Some((_, n)) => name.push(n),
                    }
                };
                if !closed {
                    return Err(TemplateError::Unclosed { at: at + 1 });
                }
                let name = name.trim();
                if name.is_empty() {
                    return Err(TemplateError::EmptyPlaceholder);
                }
                if !is_attribute_name(name) {
                    return Err(TemplateError::BadName {
                        name: name.chars().take(MAX_NAME_CHARS).collect(),
                    });
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Attribute(name.to_owned()));
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The attributes of an Okta org's user profile (base and custom), as Okta's user
/// schema (`GET /api/v1/meta/schemas/user/default`) lists them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileSchema {
    attributes: BTreeSet<String>,
}

impl ProfileSchema {
    /// A schema of these attribute names.
    pub fn new(attributes: impl IntoIterator<Item = String>) -> Self {
        Self {
            attributes: attributes.into_iter().collect(),
        }
    }

    /// Whether the profile has `name` (Okta's names are case-sensitive).
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.attributes.contains(name)
    }

    /// Every attribute name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(String::as_str)
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
