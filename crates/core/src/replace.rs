//! Regex replacement with the product page's syntax.
//!
//! The "Regex on Username" setting comes from a Java product, where `$1abc` is
//! group 1 followed by `abc`. Rust's `regex` would read that as a group named
//! `1abc` and silently produce an empty string, so replacements are parsed here
//! instead: `$N` takes digits greedily only while they name an existing group,
//! `${name}` and `${N}` name a group explicitly, `$$` and `\$` are a literal `$`,
//! and `\x` is a literal `x`. Every match is replaced, as Java's `replaceAll` does.

use std::borrow::Cow;

use regex::{Captures, Regex};

/// One piece of a parsed replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Group(usize),
    Named(String),
}

/// A compiled regex and its parsed replacement.
#[derive(Debug, Clone)]
pub struct Rewrite {
    regex: Regex,
    pieces: Vec<Piece>,
}

/// Why a regex or replacement was refused; the caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteError {
    Regex(String),
    Replacement(String),
}

impl Rewrite {
    /// Compiles `regex` and parses `replacement` against its groups.
    ///
    /// # Errors
    /// [`RewriteError`] when the regex does not compile or the replacement names
    /// a group the regex lacks or ends in a lone `$` or `\`.
    pub fn new(regex: &str, replacement: &str) -> Result<Self, RewriteError> {
        let regex = Regex::new(regex).map_err(|e| RewriteError::Regex(regex_message(&e)))?;
        let pieces = parse(&regex, replacement).map_err(RewriteError::Replacement)?;
        Ok(Self { regex, pieces })
    }

    /// Replaces every match; `None` when the regex does not match at all.
    #[must_use]
    pub fn apply<'a>(&self, input: &'a str) -> Option<Cow<'a, str>> {
        let mut out = String::with_capacity(input.len());
        let mut last = 0;
        let mut matched = false;
        for caps in self.regex.captures_iter(input) {
            let Some(whole) = caps.get(0) else { continue };
            matched = true;
            out.push_str(&input[last..whole.start()]);
            self.expand(&caps, &mut out);
            last = whole.end();
        }
        if !matched {
            return None;
        }
        out.push_str(&input[last..]);
        Some(Cow::Owned(out))
    }

    /// True when every result is a prefix of its input, so every input that gives a
    /// result starts with it: the replacement is group 1 alone, group 1 opens the
    /// pattern (after an optional `^`), and the pattern ends in `$` or `.*` with no
    /// alternation after the group, so the one match runs to the end of the input
    /// and the result is the input up to where group 1 ends. A pattern that does not
    /// match leaves the input as it is, a prefix of itself. Conservative: `false`
    /// means "not shown", e.g. for `(.*)@(.*)` -> `$1.$2`.
    #[must_use]
    pub fn keeps_a_prefix(&self) -> bool {
        if self.pieces != [Piece::Group(1)] {
            return false;
        }
        let pattern = self.regex.as_str();
        let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
        if !pattern.starts_with('(') || pattern.starts_with("(?") {
            return false;
        }
        let Some(end) = group_end(pattern) else {
            return false;
        };
        let rest = &pattern[end + 1..];
        if rest.contains('|') {
            return false;
        }
        // An escaped last character is a literal, not an anchor or "any".
        let escaped = |tail: usize| rest.len() > tail && rest[..rest.len() - tail].ends_with('\\');
        let anchored = rest.ends_with('$') && !escaped(1);
        let runs_on = rest.ends_with(".*") && !escaped(2);
        anchored || runs_on
    }

    fn expand(&self, caps: &Captures<'_>, out: &mut String) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Group(i) => out.push_str(caps.get(*i).map_or("", |m| m.as_str())),
                Piece::Named(n) => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
            }
        }
    }
}

/// The index of the `)` closing the group the pattern opens with, skipping escapes
/// and character classes.
fn group_end(pattern: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = pattern.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => {
                // A `]` first in a class (after an optional `^`) is a literal.
                if chars.peek().is_some_and(|(_, c)| *c == '^') {
                    chars.next();
                }
                if chars.peek().is_some_and(|(_, c)| *c == ']') {
                    chars.next();
                }
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        ']' => break,
                        _ => {}
                    }
                }
            }
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Compiles a plain regex, with the regex crate's message shortened to one line.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| regex_message(&e))
}

/// The regex crate's messages are multi-line with a caret diagram; keep the last line.
fn regex_message(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&text);
    last.trim().trim_start_matches("error: ").to_owned()
}

fn parse(regex: &Regex, replacement: &str) -> Result<Vec<Piece>, String> {
    let groups = regex.captures_len();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => literal.push(escaped),
                None => return Err("ends with a lone `\\`; write `\\\\` for a backslash".into()),
            },
            '$' => {
                let piece = parse_reference(regex, groups, &mut chars)?;
                match piece {
                    Piece::Literal(text) => literal.push_str(&text),
                    other => {
                        if !literal.is_empty() {
                            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                        }
                        pieces.push(other);
                    }
                }
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// Parses what follows a `$`.
fn parse_reference(
    regex: &Regex,
    groups: usize,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Piece, String> {
    match chars.peek().copied() {
        Some('$') => {
            chars.next();
            Ok(Piece::Literal("$".into()))
        }
        Some('{') => {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) => name.push(c),
                    None => return Err(format!("`${{{name}` is not closed with `}}`")),
                }
            }
            braced_group(regex, groups, &name)
        }
        Some(d) if d.is_ascii_digit() => {
            chars.next();
            let mut number = d.to_digit(10).unwrap_or(0) as usize;
            if number >= groups {
                return Err(no_group(number, groups));
            }
            // Java's rule: take another digit only while the number still names a group.
            while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                let longer = number * 10 + next as usize;
                if longer >= groups {
                    break;
                }
                number = longer;
                chars.next();
            }
            Ok(Piece::Group(number))
        }
        _ => Err(
            "`$` must be followed by a group number, `{name}` or another `$` (write `$$` for a literal `$`)"
                .into(),
        ),
    }
}

fn braced_group(regex: &Regex, groups: usize, name: &str) -> Result<Piece, String> {
    if let Ok(number) = name.parse::<usize>() {
        if number >= groups {
            return Err(no_group(number, groups));
        }
        return Ok(Piece::Group(number));
    }
    if regex.capture_names().flatten().any(|n| n == name) {
        Ok(Piece::Named(name.to_owned()))
    } else {
        Err(format!(
            "refers to `${{{name}}}` but the regex has no group named {name:?}"
        ))
    }
}

fn no_group(number: usize, groups: usize) -> String {
    format!(
        "refers to group {number} but the regex has {} group{}",
        groups - 1,
        if groups == 2 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_keeps_a_prefix_only_when_that_is_shown_by_its_shape() {
        let keeps = |regex: &str, replacement: &str| {
            Rewrite::new(regex, replacement).unwrap().keeps_a_prefix()
        };
        assert!(keeps("(.*)@.*", "$1"));
        assert!(keeps("^([^@)]+)@.*$", "${1}"));
        assert!(
            keeps("^([^@]+)@example\\.com$", "$1"),
            "anchored at the end"
        );
        assert!(
            !keeps("([^@]+)@example\\$", "$1"),
            "an escaped dollar is a literal"
        );
        assert!(keeps("([a-z(]+(\\.[a-z]+)?)@.*", "$1"));
        assert!(!keeps("(.*)@(.*)", "$1.$2"), "a second group is appended");
        assert!(
            !keeps("(?:corp\\.)?(.*)@.*", "$1"),
            "the group does not open it"
        );
        assert!(!keeps("([a-z]+)@x", "$1"), "the match may end early");
        assert!(
            !keeps("(.*)@x\\.*", "$1"),
            "an escaped dot is not any character"
        );
        assert!(!keeps("(.*)@.*", "x$1"));
        assert!(!keeps("(a)|b.*", "$1"));
    }

    fn rewrite(regex: &str, replacement: &str, input: &str) -> Option<String> {
        Rewrite::new(regex, replacement)
            .unwrap()
            .apply(input)
            .map(Cow::into_owned)
    }

    #[test]
    fn dollar_one_keeps_the_part_before_the_at_sign() {
        let out = rewrite("(.*)@.*", "$1", "demouser@example.com");
        assert_eq!(out.as_deref(), Some("demouser"));
    }

    #[test]
    fn dollar_one_followed_by_letters_is_group_one_then_the_letters() {
        let out = rewrite("(.*)@.*", "$1abc", "demouser@example.com");
        assert_eq!(out.as_deref(), Some("demouserabc"));
    }

    #[test]
    fn digits_after_a_group_number_stay_literal_unless_they_name_a_group() {
        assert_eq!(rewrite("(a)b", "$12", "ab").as_deref(), Some("a2"));
        let twelve = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)";
        assert_eq!(rewrite(twelve, "$12", "abcdefghijkl").as_deref(), Some("l"));
    }

    #[test]
    fn named_and_braced_groups_work() {
        let out = rewrite(r"(?P<user>[^@]+)@(?P<dom>.*)", "${user}.${dom}", "jo@x.org");
        assert_eq!(out.as_deref(), Some("jo.x.org"));
        assert_eq!(rewrite("(a)", "${1}1", "a").as_deref(), Some("a1"));
    }

    #[test]
    fn every_match_is_replaced_and_literal_dollars_can_be_escaped() {
        assert_eq!(
            rewrite(r"\.", "_", "first.middle.last").as_deref(),
            Some("first_middle_last")
        );
        assert_eq!(rewrite("x", "$$", "axb").as_deref(), Some("a$b"));
        assert_eq!(rewrite("x", r"\$1", "axb").as_deref(), Some("a$1b"));
    }

    #[test]
    fn a_regex_that_does_not_match_reports_no_match() {
        assert_eq!(
            rewrite("(.*)@corp\\.com", "$1", "demouser@example.com"),
            None
        );
    }

    #[test]
    fn bad_regexes_and_replacements_say_what_is_wrong() {
        let Err(RewriteError::Regex(msg)) = Rewrite::new("(.*", "$1") else {
            panic!()
        };
        assert!(msg.contains("unclosed group"), "{msg}");
        let Err(RewriteError::Replacement(msg)) = Rewrite::new("(.*)", "$2") else {
            panic!()
        };
        assert_eq!(msg, "refers to group 2 but the regex has 1 group");
        let Err(RewriteError::Replacement(msg)) = Rewrite::new("(.*)", "${nope}") else {
            panic!()
        };
        assert!(msg.contains("no group named \"nope\""), "{msg}");
        let Err(RewriteError::Replacement(msg)) = Rewrite::new("(.*)", "a$") else {
            panic!()
        };
        assert!(msg.contains("must be followed by"), "{msg}");
    }
}
