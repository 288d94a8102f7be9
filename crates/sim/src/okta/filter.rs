//! The expression language of Okta's `filter` and `search` query parameters (a SCIM
//! subset): `attr op "value"` joined by `and` / `or`, with parentheses. Each endpoint
//! says which attributes and operators it supports ([`Dialect`]); anything else is
//! refused with Okta's 400 bodies: E0000053 when the text does not parse, E0000031
//! when it parses but asks for an unsupported attribute or operator.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};

use super::error::ApiError;

/// A comparison operator (SCIM names, matched case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Sw,
    Co,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
    Pr,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "sw" => Self::Sw,
            "co" => Self::Co,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            "pr" => Self::Pr,
            _ => return None,
        })
    }

    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp { attr: String, op: Op, value: String },
}

/// What one endpoint's parameter accepts.
pub struct Dialect {
    /// The parameter's name, for error causes (`filter` or `search`).
    pub param: &'static str,
    /// `Err(reason)` when the endpoint does not support `op` on `attr`.
    pub allows: fn(&str, Op) -> Result<(), String>,
    /// Whether string values compare case-insensitively (`search`) or exactly (`filter`).
    pub case_insensitive: bool,
    /// Attributes holding timestamps; their values are normalised before comparing.
    pub dates: &'static [&'static str],
}

/// Anything an expression can be evaluated against: the values of an attribute path
/// (several for arrays such as a log event's `target.id`).
pub trait Attributes {
    fn values(&self, attr: &str) -> Vec<Cow<'_, str>>;
}

/// Parses and checks an expression for one dialect.
///
/// # Errors
/// E0000053 when the text is not an expression; E0000031 when the dialect refuses a term.
pub fn parse(text: &str, dialect: &Dialect) -> Result<Expr, ApiError> {
    let tokens = tokenize(text).map_err(|e| bad_syntax(dialect, text, &e))?;
    let mut parser = Parser { tokens, pos: 0 };
    let expr = parser
        .or_expr()
        .map_err(|e| bad_syntax(dialect, text, &e))?;
    if parser.pos != parser.tokens.len() {
        return Err(bad_syntax(
            dialect,
            text,
            "unexpected text after the expression",
        ));
    }
    check(expr, dialect)
}

fn bad_syntax(dialect: &Dialect, text: &str, why: &str) -> ApiError {
    ApiError::invalid_filter(format!("{}: {why} in {text:?}", dialect.param))
}

fn check(expr: Expr, dialect: &Dialect) -> Result<Expr, ApiError> {
    Ok(match expr {
        Expr::And(a, b) => Expr::And(Box::new(check(*a, dialect)?), Box::new(check(*b, dialect)?)),
        Expr::Or(a, b) => Expr::Or(Box::new(check(*a, dialect)?), Box::new(check(*b, dialect)?)),
        Expr::Cmp { attr, op, value } => {
            (dialect.allows)(&attr, op)
                .map_err(|why| ApiError::invalid_search(format!("{}: {why}", dialect.param)))?;
            let value = if dialect.dates.contains(&attr.as_str()) && op != Op::Pr {
                normalise_date(&value).ok_or_else(|| {
                    ApiError::invalid_date(format!(
                        "{}: {value:?} is not a date for {attr}",
                        dialect.param
                    ))
                })?
            } else {
                value
            };
            // Matching lower-cases the stored value too, dates included.
            let value = if dialect.case_insensitive {
                value.to_lowercase()
            } else {
                value
            };
            Expr::Cmp { attr, op, value }
        }
    })
}

/// Okta's timestamp format, `2013-07-02T21:36:25.344Z`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn normalise_date(value: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| format_time(t.with_timezone(&Utc)))
}

impl Expr {
    /// Whether `subject` matches. Dates are compared as normalised text (same format, so
    /// text order is time order).
    pub fn matches(&self, subject: &impl Attributes, dialect: &Dialect) -> bool {
        match self {
            Self::And(a, b) => a.matches(subject, dialect) && b.matches(subject, dialect),
            Self::Or(a, b) => a.matches(subject, dialect) || b.matches(subject, dialect),
            Self::Cmp { attr, op, value } => subject.values(attr).iter().any(|actual| {
                let actual: Cow<'_, str> = if dialect.case_insensitive {
                    Cow::Owned(actual.to_lowercase())
                } else {
                    Cow::Borrowed(actual.as_ref())
                };
                compare(&actual, *op, value)
            }),
        }
    }
}

fn compare(actual: &str, op: Op, value: &str) -> bool {
    match op {
        Op::Eq => actual == value,
        Op::Ne => actual != value,
        Op::Sw => actual.starts_with(value),
        Op::Co => actual.contains(value),
        Op::Ew => actual.ends_with(value),
        Op::Gt => actual > value,
        Op::Ge => actual >= value,
        Op::Lt => actual < value,
        Op::Le => actual <= value,
        Op::Pr => !actual.is_empty(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a quoted value is not closed".into()),
                        Some('\\') => value.push(chars.next().ok_or("a dangling backslash")?),
                        Some('"') => break,
                        Some(other) => value.push(other),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    if tokens.is_empty() {
        return Err("the expression is empty".into());
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or_expr()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("a parenthesis is not closed".into()),
                }
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => {
                Err("the \"not\" operator is not supported".into())
            }
            Some(Token::Word(attr)) => self.comparison(attr),
            Some(other) => Err(format!("expected an attribute name, found {other:?}")),
            None => Err("the expression ends too early".into()),
        }
    }

    fn comparison(&mut self, attr: String) -> Result<Expr, String> {
        let op = match self.next() {
            Some(Token::Word(w)) => {
                Op::parse(&w).ok_or_else(|| format!("{w:?} is not an operator"))?
            }
            _ => return Err(format!("expected an operator after {attr}")),
        };
        if op == Op::Pr {
            return Ok(Expr::Cmp {
                attr,
                op,
                value: String::new(),
            });
        }
        let value = match self.next() {
            Some(Token::Quoted(v)) => v,
            // Unquoted literals (true, false, numbers, null) compare as their text.
            Some(Token::Word(w))
                if !w.eq_ignore_ascii_case("and") && !w.eq_ignore_ascii_case("or") =>
            {
                w
            }
            _ => return Err(format!("expected a value after {attr}")),
        };
        Ok(Expr::Cmp { attr, op, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<&'static str, &'static str>);
    impl Attributes for Map {
        fn values(&self, attr: &str) -> Vec<Cow<'_, str>> {
            self.0
                .get(attr)
                .map(|v| Cow::Borrowed(*v))
                .into_iter()
                .collect()
        }
    }

    fn allow_all(_: &str, op: Op) -> Result<(), String> {
        if op == Op::Ne {
            Err("ne is not supported".into())
        } else {
            Ok(())
        }
    }

    const SEARCH: Dialect = Dialect {
        param: "search",
        allows: allow_all,
        case_insensitive: true,
        dates: &["lastUpdated"],
    };

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let user = Map(HashMap::from([
            ("status", "ACTIVE"),
            ("profile.login", "Ann@x.io"),
        ]));
        let e = parse(
            r#"status eq "suspended" or status eq "active" and profile.login sw "ann""#,
            &SEARCH,
        )
        .unwrap();
        assert!(e.matches(&user, &SEARCH));
        let e = parse(
            r#"(status eq "suspended" or status eq "active") and profile.login co "bob""#,
            &SEARCH,
        )
        .unwrap();
        assert!(!e.matches(&user, &SEARCH));
    }

    #[test]
    fn dates_compare_as_instants_whatever_their_offset() {
        let user = Map(HashMap::from([("lastUpdated", "2024-01-01T10:00:00.000Z")]));
        let e = parse(r#"lastUpdated gt "2024-01-01T11:00:00.000+02:00""#, &SEARCH).unwrap();
        assert!(e.matches(&user, &SEARCH));
    }

    #[test]
    fn bad_text_is_e0000053_and_a_refused_operator_is_e0000031() {
        assert_eq!(
            parse(r#"status eq "ACTIVE"#, &SEARCH).unwrap_err().code,
            "E0000053"
        );
        assert_eq!(parse(r#"status eq"#, &SEARCH).unwrap_err().code, "E0000053");
        assert_eq!(
            parse(r#"not status eq "A""#, &SEARCH).unwrap_err().code,
            "E0000053"
        );
        assert_eq!(
            parse(r#"status ne "A""#, &SEARCH).unwrap_err().code,
            "E0000031"
        );
        assert_eq!(
            parse(r#"lastUpdated gt "yesterday""#, &SEARCH)
                .unwrap_err()
                .code,
            "E0000030"
        );
    }

    #[test]
    fn escaped_quotes_stay_in_the_value() {
        let e = parse(r#"profile.nickName eq "a\"b""#, &SEARCH).unwrap();
        assert_eq!(
            e,
            Expr::Cmp {
                attr: "profile.nickName".into(),
                op: Op::Eq,
                value: "a\"b".into()
            }
        );
    }
}
