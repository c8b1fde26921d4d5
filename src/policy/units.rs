//! Durations, sizes and points in time, parsed the same way from flags and from policy files.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time with the engine's precision: unix seconds and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn new(seconds: i64, nanos: u32) -> Timestamp {
        Timestamp { seconds, nanos }
    }

    /// The time as the engine's `until` filter takes it (`<seconds>.<nanoseconds>`).
    pub fn engine_text(&self) -> String {
        format!("{}.{:09}", self.seconds, self.nanos)
    }

    /// This time moved `duration` into the past.
    pub fn minus(&self, duration: Duration) -> Timestamp {
        let total = i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
            - duration.as_nanos().min(i128::MAX as u128) as i128;
        Timestamp::from_nanos(total)
    }

    /// How long before `later` this time is (zero when it is not before).
    pub fn age_at(&self, later: Timestamp) -> Duration {
        let nanos = later.as_nanos() - self.as_nanos();
        if nanos <= 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        }
    }

    fn as_nanos(&self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    fn from_nanos(total: i128) -> Timestamp {
        let seconds = total.div_euclid(1_000_000_000);
        let nanos = total.rem_euclid(1_000_000_000) as u32;
        Timestamp {
            seconds: i64::try_from(seconds).unwrap_or(i64::MIN),
            nanos,
        }
    }

    /// The current time of this machine.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    fn from_system_time(time: SystemTime) -> Timestamp {
        match time.duration_since(UNIX_EPOCH) {
            Ok(since) => Timestamp {
                seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            Err(before) => Timestamp::from_nanos(-(before.duration().as_nanos() as i128)),
        }
    }
}

/// UTC, RFC 3339, to the second (the engine's own times are shown the same way).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match u64::try_from(self.seconds) {
            Ok(seconds) => {
                let time = UNIX_EPOCH + Duration::from_secs(seconds);
                write!(f, "{}", humantime::format_rfc3339_seconds(time))
            }
            Err(_) => write!(f, "{}", self.engine_text()),
        }
    }
}

/// A duration in humantime's syntax: `90s`, `36h`, `7d`, `2w`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|error| format!("invalid duration {text:?}: {error} (examples: 12h, 7d, 2w)"))
}

/// A size in bytes, with bytesize's units: `500MB`, `1.5 GiB`, `20000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|error| format!("invalid size {text:?}: {error} (examples: 500MB, 40GiB)"))
}

/// A point in time as `until` filters give it: a duration back from `now` (`24h`, `7d`), unix
/// seconds (`1717000000`, `1717000000.5`), or an RFC 3339 time in UTC (`2026-05-01T10:00:00Z`).
///
/// The engine reads relative times against its own clock and local times in its own zone;
/// fleetrmi turns every form into an absolute time here, with this machine's clock, and sends
/// that to each engine, so that the plan and every host use exactly the same instant.
pub fn parse_time(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(unix) = parse_unix_seconds(text) {
        return Ok(unix);
    }
    if let Ok(duration) = humantime::parse_duration(text) {
        return Ok(now.minus(duration));
    }
    if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        return Ok(Timestamp::from_system_time(time));
    }
    Err(format!(
        "invalid time {text:?}: give a duration back from now (24h, 7d), unix seconds \
         (1717000000) or an RFC 3339 time in UTC (2026-05-01T10:00:00Z)"
    ))
}

/// `1717000000` or `1717000000.123`: the fraction is read as the engine reads it, as decimal
/// digits of a second.
fn parse_unix_seconds(text: &str) -> Option<Timestamp> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None;
    }
    let seconds = whole.parse::<i64>().ok()?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse::<u32>().ok()?
    };
    Some(Timestamp { seconds, nanos })
}

/// A size for people, in decimal units as everywhere in fleetrmi's output (`1.5 MB`).
pub fn format_size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

/// A duration for people: `3h 20m`, rounded to seconds.
pub fn format_age(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        seconds: 1_700_000_000,
        nanos: 250_000_000,
    };

    #[test]
    fn durations_take_humantime_units() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("12").is_err());
    }

    #[test]
    fn sizes_take_decimal_and_binary_units_and_plain_bytes() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("20000"), Ok(20_000));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn until_as_a_duration_counts_back_from_now() {
        assert_eq!(
            parse_time("1h", NOW),
            Ok(Timestamp::new(1_700_000_000 - 3_600, 250_000_000))
        );
        assert_eq!(parse_time("0s", NOW), Ok(NOW));
    }

    #[test]
    fn until_as_unix_seconds_keeps_the_fraction_as_the_engine_does() {
        assert_eq!(
            parse_time("1717000000", NOW),
            Ok(Timestamp::new(1_717_000_000, 0))
        );
        assert_eq!(
            parse_time("1717000000.5", NOW),
            Ok(Timestamp::new(1_717_000_000, 500_000_000))
        );
        assert!(parse_time("1717000000.", NOW).is_err());
    }

    #[test]
    fn until_as_rfc3339_in_utc() {
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", NOW),
            Ok(Timestamp::new(1_700_000_000, 0))
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.75Z", NOW),
            Ok(Timestamp::new(1_700_000_000, 750_000_000))
        );
        assert!(parse_time("yesterday", NOW).is_err());
    }

    #[test]
    fn engine_text_has_nine_fraction_digits() {
        assert_eq!(
            Timestamp::new(1_717_000_000, 5).engine_text(),
            "1717000000.000000005"
        );
    }

    #[test]
    fn ages_are_never_negative() {
        let earlier = Timestamp::new(100, 0);
        assert_eq!(
            earlier.age_at(Timestamp::new(160, 0)),
            Duration::from_secs(60)
        );
        assert_eq!(Timestamp::new(160, 0).age_at(earlier), Duration::ZERO);
        assert_eq!(
            Timestamp::new(5, 0).minus(Duration::from_secs(10)).seconds,
            -5
        );
    }

    #[test]
    fn timestamps_print_as_utc() {
        assert_eq!(NOW.to_string(), "2023-11-14T22:13:20Z");
    }
}
