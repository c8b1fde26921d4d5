//! What the engine did held against what the plan predicted, as warnings: one removal's records
//! and error, whether it was accepted at all, and an engine prune's records as a set.

use std::collections::BTreeMap;

use crate::plan::DeleteRecord;
use crate::report::{ImageResult, bounded_list};

/// How many records a plan-vs-engine warning lists on each side before it says how many more.
const DIFFERENCE_ITEMS: usize = 8;

/// A warning when the engine did something other than the plan said, `None` when they agree.
pub(super) fn describe_difference(planned: &ImageResult, actual: &ImageResult) -> Option<String> {
    if planned.records() == actual.records() && planned.error == actual.error {
        return None;
    }
    let show = |result: &ImageResult| {
        let mut parts: Vec<String> = result.records().iter().map(ToString::to_string).collect();
        if let Some(error) = &result.error {
            parts.push(format!("error: {error}"));
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
    let only_planned: Vec<&str> = counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(record, _)| record.as_str())
        .collect();
    let only_engine: Vec<&str> = counts
        .iter()
        .filter(|(_, count)| **count < 0)
        .map(|(record, _)| record.as_str())
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
    fn missing_and_extra_records_are_named() {
        let warning =
            describe_set_difference(&[deleted("a"), deleted("b")], &[deleted("a"), deleted("c")])
                .expect("a difference");
        assert!(warning.contains("only planned [Deleted: b]"), "{warning}");
        assert!(warning.contains("only done [Deleted: c]"), "{warning}");
    }
}
