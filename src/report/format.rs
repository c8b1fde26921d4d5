//! Sizes and durations for people, the same everywhere in the output.

use std::time::Duration;

/// Decimal units as `docker system df` prints them (`1.5 MB`).
pub fn bytes(value: u64) -> String {
    bytesize::ByteSize::b(value).display().si().to_string()
}

/// Milliseconds below a second, else seconds with one decimal.
pub fn duration(value: Duration) -> String {
    if value < Duration::from_secs(1) {
        format!("{} ms", value.as_millis())
    } else {
        format!("{:.1} s", value.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_decimal_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
    }

    #[test]
    fn short_durations_in_milliseconds() {
        assert_eq!(duration(Duration::from_millis(42)), "42 ms");
        assert_eq!(duration(Duration::from_millis(1_250)), "1.2 s");
    }
}
