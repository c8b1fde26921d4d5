//! "3 days ago": how long ago an image was created, in the words `docker images` uses.

/// The age of something created at `created` (unix seconds), seen at `now`, as `docker images`
/// shows it in its CREATED column.
pub fn ago(created: i64, now: i64) -> String {
    let seconds = now.saturating_sub(created);
    if seconds < 0 {
        return "in the future".to_string();
    }
    format!("{} ago", human_duration(seconds))
}

/// Rounded the way the Docker CLI rounds (go-units' HumanDuration): whole units, switching to
/// the next unit at twice its length.
fn human_duration(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24;
    if seconds < 1 {
        return "Less than a second".to_string();
    }
    if seconds == 1 {
        return "1 second".to_string();
    }
    if seconds < MINUTE {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / MINUTE;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Hours are rounded to the nearest hour, the larger units truncated from them.
    let hours = (seconds + HOUR / 2) / HOUR;
    if hours == 1 {
        return "About an hour".to_string();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < DAY * 7 * 2 {
        return format!("{} days", hours / DAY);
    }
    if hours < DAY * 30 * 2 {
        return format!("{} weeks", hours / DAY / 7);
    }
    if hours < DAY * 365 * 2 {
        return format!("{} months", hours / DAY / 30);
    }
    format!("{} years", seconds / HOUR / DAY / 365)
}

#[cfg(test)]
mod tests {
    use super::ago;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn seconds_and_minutes() {
        assert_eq!(ago(NOW, NOW), "Less than a second ago");
        assert_eq!(ago(NOW - 1, NOW), "1 second ago");
        assert_eq!(ago(NOW - 59, NOW), "59 seconds ago");
        assert_eq!(ago(NOW - 61, NOW), "About a minute ago");
        assert_eq!(ago(NOW - 59 * 60, NOW), "59 minutes ago");
    }

    #[test]
    fn hours_days_weeks_months_years() {
        assert_eq!(ago(NOW - 3600, NOW), "About an hour ago");
        assert_eq!(ago(NOW - 47 * 3600, NOW), "47 hours ago");
        assert_eq!(ago(NOW - 3 * 86_400, NOW), "3 days ago");
        assert_eq!(ago(NOW - 20 * 86_400, NOW), "2 weeks ago");
        assert_eq!(ago(NOW - 90 * 86_400, NOW), "3 months ago");
        assert_eq!(ago(NOW - 800 * 86_400, NOW), "2 years ago");
    }

    #[test]
    fn clock_skew_is_not_a_negative_age() {
        assert_eq!(ago(NOW + 100, NOW), "in the future");
    }
}
