//! "Did you mean …?": finding the known name closest to a mistyped one.

/// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Whether `candidate` is close enough to `name` to suggest it: a few typos away (a third of the
/// name's length, at least one), or `name` is a prefix of it.
pub(crate) fn is_close(name: &str, candidate: &str) -> bool {
    let allowed = (name.chars().count() / 3).max(1);
    edit_distance(name, candidate) <= allowed
        || (name.chars().count() >= 3 && candidate.starts_with(name))
}

/// The candidate closest to `name`, if any is close; the first one wins a tie.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|candidate| is_close(name, candidate))
        .min_by_key(|candidate| edit_distance(name, candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("host", "hosts"), 1);
        assert_eq!(edit_distance("web1", "web9"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_picks_the_nearest_close_name() {
        assert_eq!(closest("bild", ["builders", "build", "arm"]), Some("build"));
        assert_eq!(closest("web9", ["web1", "db1"]), Some("web1"));
        assert_eq!(
            closest("child", ["hosts", "children", "vars"]),
            Some("children")
        );
    }

    #[test]
    fn nothing_is_suggested_for_unrelated_names() {
        assert_eq!(closest("zzz", ["hosts", "children", "vars"]), None);
        assert_eq!(closest("db", ["x86", "arm"]), None);
    }
}
