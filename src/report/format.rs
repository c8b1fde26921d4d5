//! Sizes, durations and text for people, the same everywhere in the output.

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

/// Items joined with `, `, at most `limit` of them: a long list ends with `… (N more)` so that a
/// warning stays one readable line.
pub fn bounded_list<S: AsRef<str>>(items: &[S], limit: usize) -> String {
    let shown: Vec<&str> = items.iter().take(limit).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if items.len() > limit {
        text.push_str(&format!(", … ({} more)", items.len() - limit));
    }
    text
}

/// `text` safe to print on a terminal: control characters other than newline and tab (an
/// escape sequence a hostile host put in an error message, say) are shown as `\x1b`, never
/// sent to the terminal. JSON output needs none of this: serde escapes them.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            safe.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            safe.push(c);
        }
    }
    std::borrow::Cow::Owned(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_with_a_count() {
        assert_eq!(bounded_list(&["a", "b"], 3), "a, b");
        assert_eq!(bounded_list(&["a", "b", "c", "d"], 2), "a, b, … (2 more)");
        assert_eq!(bounded_list::<&str>(&[], 2), "");
    }

    #[test]
    fn escape_sequences_from_a_host_never_reach_the_terminal() {
        assert_eq!(
            terminal_safe("no such image\x1b]52;c;aGk=\x07 x\r"),
            "no such image\\x1b]52;c;aGk=\\x07 x\\x0d"
        );
        assert_eq!(terminal_safe("line\n\tnext"), "line\n\tnext");
        assert_eq!(terminal_safe("caf\u{e9} \u{9b}1m"), "caf\u{e9} \\x9b1m");
    }

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
