use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time with millisecond precision (what every backend stores exactly, MongoDB's
/// BSON dates included), shown as RFC 3339 UTC: `2026-11-23T10:53:49.123Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self((nanos / 1_000_000) as i64)
    }

    pub fn from_unix_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn as_unix_millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (any offset); sub-millisecond digits are dropped.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        i64::try_from(parsed.unix_timestamp_nanos().div_euclid(1_000_000))
            .ok()
            .map(Self)
    }

    /// `2026-11-23T10:53:49.123Z`.
    pub fn to_rfc3339(self) -> String {
        self.with_rfc3339(str::to_owned)
    }

    /// Hands the RFC 3339 text to `use_text`. Written digit by digit on the stack: it runs
    /// twice per sign-up answer, and `format!` was a measurable share of the request.
    fn with_rfc3339<R>(self, use_text: impl FnOnce(&str) -> R) -> R {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (date, clock) = (at.date(), at.time());
        let year = date.year();
        if !(0..=9999).contains(&year) {
            // Outside four-digit years RFC 3339 has no form; keep the sign and every digit.
            return use_text(&format!(
                "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                u8::from(date.month()),
                date.day(),
                clock.hour(),
                clock.minute(),
                clock.second(),
                clock.millisecond()
            ));
        }
        let mut text = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for slot in text[at..at + width].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, u32::from(u8::from(date.month())));
        put(8, 2, u32::from(date.day()));
        put(11, 2, u32::from(clock.hour()));
        put(14, 2, u32::from(clock.minute()));
        put(17, 2, u32::from(clock.second()));
        put(20, 3, u32::from(clock.millisecond()));
        // Only ASCII digits and separators were written.
        use_text(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_rfc3339(|text| f.write_str(text))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_rfc3339(|text| serializer.serialize_str(text))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn formats_and_parses_rfc3339_utc_with_millis() {
        let at = Timestamp::from_unix_millis(1_795_000_000_123);
        let text = at.to_rfc3339();
        assert_eq!(text, "2026-11-18T11:06:40.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&text), Some(at));
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-18T12:06:40.123+01:00"),
            Some(at)
        );
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn digit_by_digit_formatting_agrees_with_the_calendar() {
        // The whole range the calendar knows (years -9999 to 9999), in uneven steps that visit
        // every month and every hour, leap days included.
        let mut millis: i64 = -377_705_116_800_000;
        while millis <= 253_402_300_799_999 {
            let at = Timestamp::from_unix_millis(millis);
            let date =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .expect("in range");
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                date.year(),
                u8::from(date.month()),
                date.day(),
                date.hour(),
                date.minute(),
                date.second(),
                date.millisecond()
            );
            assert_eq!(at.to_rfc3339(), expected);
            millis += 863_999_937;
        }
        assert_eq!(
            Timestamp::from_unix_millis(0).to_rfc3339(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(951_782_400_007).to_rfc3339(),
            "2000-02-29T00:00:00.007Z"
        );
    }
}
