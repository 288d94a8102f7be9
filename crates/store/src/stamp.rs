//! Timestamps as the store keeps them: RFC 3339 text in one fixed shape.
//!
//! The store talks to SQLite and PostgreSQL through sqlx's `Any` driver, which carries
//! integers, floats, text and bytes but no date type. Every timestamp therefore crosses
//! as text, always UTC with nine fractional digits and `+00:00`
//! (`2026-12-03T10:53:56.123456789+00:00`): one width, so comparing and ordering the text
//! (`expires_at > $1`, `ORDER BY finished_at`) orders the instants, in both databases.
//! SQLite stores written before (sqlx's own encoding: RFC 3339 with 0, 3, 6 or 9 digits)
//! decode the same; SQLite's `datetime()` shape (`2026-12-03 10:53:56`) is read too.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::any::{Any, AnyTypeInfo};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A UTC instant stored as fixed-width RFC 3339 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub DateTime<Utc>);

impl Ts {
    pub(crate) fn now() -> Self {
        Self(Utc::now())
    }

    /// The stored text of an instant.
    pub(crate) fn text(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Nanos, false)
    }

    /// Reads the stored text, in this module's shape or an older one.
    pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .or_else(|err| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                    .map(|naive| naive.and_utc())
                    .map_err(|_| err)
            })
    }
}

impl From<DateTime<Utc>> for Ts {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at)
    }
}

impl From<Ts> for DateTime<Utc> {
    fn from(ts: Ts) -> Self {
        ts.0
    }
}

impl Type<Any> for Ts {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(Self::text(self.0), buf)
    }
}

impl<'r> Decode<'r, Any> for Ts {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Self::parse(&text)
            .map(Self)
            .map_err(|err| format!("the stored time {text:?} is not RFC 3339: {err}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_order_as_text_as_the_instants_do() {
        let base = Utc::now();
        let times = [
            base,
            base + chrono::Duration::nanoseconds(1),
            base + chrono::Duration::milliseconds(10),
            base + chrono::Duration::seconds(100_000),
        ];
        let texts: Vec<String> = times.iter().map(|t| Ts::text(*t)).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(sorted, texts);
        assert!(texts.iter().all(|t| t.len() == texts[0].len()));
    }

    #[test]
    fn older_shapes_of_stored_times_are_read() {
        let at = Ts::parse("2026-01-02T03:04:05.5+00:00").unwrap();
        assert_eq!(Ts::text(at), "2026-01-02T03:04:05.500000000+00:00");
        let at = Ts::parse("2026-01-02 03:04:05").unwrap();
        assert_eq!(Ts::text(at), "2026-01-02T03:04:05.000000000+00:00");
        assert!(Ts::parse("yesterday").is_err());
    }
}
