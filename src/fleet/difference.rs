//! What the engine did held against what the plan predicted, as warnings: one removal's records
//! and error, whether it was accepted at all, and an engine prune's records as a set.

use std::collections::BTreeMap;

use crate::plan::DeleteRecord;
use crate::report::{ImageResult, bounded_list};

/// How many records a plan-vs-engine warning lists on each side before it says how many more.
const DIFFERENCE_ITEMS: usize = 6;

/// The most characters of one record or error a warning shows: with [`DIFFERENCE_ITEMS`] a
/// warning stays one readable line (under 2 KB) whatever the engine answered.
const ITEM_CHARS: usize = 120;

/// `text`, cut to [`ITEM_CHARS`] characters with `…` when longer.
fn clipped(text: &str) -> String {
    match text.char_indices().nth(ITEM_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A warning when the engine did something other than the plan said, `None` when they agree.
pub(super) fn describe_difference(planned: &ImageResult, actual: &ImageResult) -> Option<String> {
    if planned.records() == actual.records() && planned.error == actual.error {
        return None;
    }
    let show = |result: &ImageResult| {
        let mut parts: Vec<String> = result
            .records()
            .iter()
            .map(|record| clipped(&record.to_string()))
            .collect();
        if let Some(error) = &result.error {
            parts.push(clipped(&format!("error: {error}")));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            bounded_list(&parts, DIFFERENCE_ITEMS)
        }
    };
    Some(format!(
        "{}: the engine did not do what the plan predicted: planned [{}], engine [{}]",
        actual.image,
        show(planned),
        show(actual)
    ))
}

/// A warning when two record lists differ as multisets, naming what only one side has.
pub(super) fn describe_set_difference(
    planned: &[DeleteRecord],
    actual: &[DeleteRecord],
) -> Option<String> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for record in planned {
        *counts.entry(record.to_string()).or_default() += 1;
    }
    for record in actual {
        *counts.entry(record.to_string()).or_default() -= 1;
    }
    let only_planned: Vec<String> = counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(record, _)| clipped(record))
        .collect();
    let only_engine: Vec<String> = counts
        .iter()
        .filter(|(_, count)| **count < 0)
        .map(|(record, _)| clipped(record))
        .collect();
    if only_planned.is_empty() && only_engine.is_empty() {
        return None;
    }
    Some(format!(
        "the engine's prune did not do what the plan predicted: only planned [{}], only done [{}]",
        bounded_list(&only_planned, DIFFERENCE_ITEMS),
        bounded_list(&only_engine, DIFFERENCE_ITEMS)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(untagged: &[&str], error: Option<&str>) -> ImageResult {
        ImageResult {
            image: "x:1".into(),
            untagged: untagged.iter().map(|s| s.to_string()).collect(),
            error: error.map(str::to_string),
            ..ImageResult::default()
        }
    }

    fn deleted(id: &str) -> DeleteRecord {
        DeleteRecord::Deleted(id.to_owned())
    }

    #[test]
    fn same_records_and_error_is_no_difference() {
        assert_eq!(
            describe_difference(&result(&["x:1"], None), &result(&["x:1"], None)),
            None
        );
    }

    #[test]
    fn different_outcome_is_described_with_both_sides() {
        let warning = describe_difference(&result(&["x:1"], None), &result(&[], Some("conflict")))
            .expect("a difference");
        assert!(warning.contains("planned [Untagged: x:1]"), "{warning}");
        assert!(warning.contains("engine [error: conflict]"), "{warning}");
    }

    #[test]
    fn the_same_records_in_another_order_are_no_difference() {
        let planned = [
            deleted("a"),
            deleted("b"),
            DeleteRecord::Untagged("x:1".into()),
        ];
        let actual = [
            DeleteRecord::Untagged("x:1".into()),
            deleted("b"),
            deleted("a"),
        ];
        assert_eq!(describe_set_difference(&planned, &actual), None);
    }

    #[test]
    fn a_difference_is_one_line_under_2_kb_whatever_the_engine_answered() {
        let long = |n: usize| format!("registry.example.com:5000/{}@sha256:{}", "r".repeat(300), n);
        let many: Vec<String> = (0..500).map(long).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let planned = result(&refs, None);
        let actual = result(&refs[1..], Some(&"e".repeat(10_000)));
        let warning = describe_difference(&planned, &actual).expect("a difference");
        assert!(warning.len() < 2048, "{} bytes", warning.len());
        assert!(!warning.contains('\n'));
        assert!(warning.contains("more)"), "{warning}");
        let records: Vec<DeleteRecord> = many.iter().map(|id| deleted(id)).collect();
        let warning = describe_set_difference(&records, &[]).expect("a difference");
        assert!(warning.len() < 2048, "{} bytes", warning.len());
    }

    #[test]
    fn missing_and_extra_records_are_named() {
        let warning =
            describe_set_difference(&[deleted("a"), deleted("b")], &[deleted("a"), deleted("c")])
                .expect("a difference");
        assert!(warning.contains("only planned [Deleted: b]"), "{warning}");
        assert!(warning.contains("only done [Deleted: c]"), "{warning}");
    }
}
