//! One reached host's run of `rmi` or a rule-based `prune`: what was read there, where results
//! go, and the one removal step both share: send a removal, record what the engine did, hold it
//! against the plan, and turn a lost answer into the host's failure.

use std::collections::BTreeSet;

use crate::plan::{DeleteRecord, FreedByImages, RemovalAnswer};
use crate::report::{BackupOutcome, ContainerOutcome, HostFailure, HostReport, ImageResult, Step};
use crate::snapshot::Snapshot;

use super::connect::ConnectedHost;
use super::control::RunControl;
use super::difference::describe_difference;
use super::progress::HostProgress;
use super::send_removal::{Removal, send_removal};

/// The result of a removal whose safety steps ran but whose engine answer was lost.
pub(super) const LOST_ANSWER: &str =
    "the engine's answer to its removal was lost: whether it happened is unknown";

/// The removals a host is to make, in order, and how they are shown and checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Queue<'a> {
    /// rmi's arguments, or a rule prune's request names.
    pub names: &'a [String],
    /// Steps read `removing NAME (2/5)` rather than `removing NAME`.
    pub numbered: bool,
    /// "No such image" is reported as already absent.
    pub ignore_missing: bool,
}

/// One reached host during its removals.
pub(super) struct HostRun<'a> {
    pub host: &'a ConnectedHost,
    /// What was read before the removals; results are sized from it.
    pub snapshot: &'a Snapshot,
    pub report: &'a mut HostReport,
    pub progress: &'a HostProgress,
    pub control: &'a RunControl,
    queue: Queue<'a>,
    /// Tags the removals so far took away (a later backup does not claim them).
    pub gone_tags: BTreeSet<String>,
    /// Engines that list only deleted images: bytes from the layers those images leave unheld.
    freed_by_images: Option<FreedByImages>,
}

/// What the steps before a removal did, carried into its result.
#[derive(Debug, Default)]
pub(super) struct Before {
    pub backup: Option<BackupOutcome>,
    pub containers: Vec<ContainerOutcome>,
}

impl<'a> HostRun<'a> {
    pub fn new(
        host: &'a ConnectedHost,
        snapshot: &'a Snapshot,
        report: &'a mut HostReport,
        progress: &'a HostProgress,
        control: &'a RunControl,
        queue: Queue<'a>,
    ) -> HostRun<'a> {
        let freed_by_images = (!host.engine.info.kind.deletes_answer_with_layers())
            .then(|| FreedByImages::new(snapshot));
        HostRun {
            host,
            snapshot,
            report,
            progress,
            control,
            queue,
            gone_tags: BTreeSet::new(),
            freed_by_images,
        }
    }

    /// The report's name for the host.
    pub fn host_name(&self) -> String {
        self.report.host.clone()
    }

    /// Before the removal at `index`: it and those after it are still to come, and after an
    /// interrupt the host stops with them not attempted.
    pub fn next(&self, index: usize) -> Result<(), HostFailure> {
        let left = self.left(index);
        self.progress.still_to_come(left);
        if self.control.interrupted() {
            return Err(interrupted("interrupted", left));
        }
        Ok(())
    }

    /// The removal at `index` and those after it.
    pub fn left(&self, index: usize) -> &'a [String] {
        &self.queue.names[index.min(self.queue.names.len())..]
    }

    /// The removals after the one at `index`.
    pub fn later(&self, index: usize) -> &'a [String] {
        &self.queue.names[(index + 1).min(self.queue.names.len())..]
    }

    /// The removal at `index`: sends it, records the engine's answer with what the steps
    /// `before` it did, and holds the answer against the plan. `Ok(Some(warning))` when the
    /// engine did other than planned (the warning is already in the report); `Err` when the
    /// answer was lost: whether it happened is unknown, and the host stops.
    pub async fn remove_checked(
        &mut self,
        index: usize,
        removal: Removal<'_>,
        before: Before,
    ) -> Result<Option<String>, HostFailure> {
        let image = removal.image;
        let later = self.later(index);
        self.progress
            .pending(image, before.backup.as_ref(), &before.containers);
        self.progress.still_to_come(later);
        self.progress.changing_step(&self.step_name(index, image));
        let answer = match send_removal(&self.host.engine, &removal).await {
            Ok(answer) => answer,
            Err(lost) => {
                self.progress.settle_pending(self.report, LOST_ANSWER);
                return Err(HostFailure {
                    step: Step::Remove,
                    message: format!(
                        "{lost}; whether {image} was removed is unknown: rerun with --dry-run to \
                         see{}",
                        not_attempted(later)
                    ),
                });
            }
        };
        let mut result = result_of(image, &answer, self.snapshot);
        if let Some(freed) = &mut self.freed_by_images {
            result.reclaimed_bytes = freed.count(&answer.records);
        }
        result.backup = before.backup;
        result.containers = before.containers;
        self.gone_tags.extend(result.untagged.iter().cloned());
        let difference = removal.expected.as_ref().and_then(|expected| {
            describe_difference(&result_of(image, expected, self.snapshot), &result)
        });
        if let Some(difference) = &difference {
            self.report.warnings.push(difference.clone());
        }
        if self.queue.ignore_missing {
            result.mark_absent_if_missing();
        }
        self.progress.record(self.report, result);
        Ok(difference)
    }

    /// Records a removal its safety steps refused (or stopped) without sending it.
    pub fn record_unsent(&mut self, image: &str, error: String, before: Before) {
        let result = ImageResult {
            image: image.to_owned(),
            error: Some(error),
            backup: before.backup,
            containers: before.containers,
            ..ImageResult::default()
        };
        self.progress.record(self.report, result);
    }

    fn step_name(&self, index: usize, image: &str) -> String {
        if self.queue.numbered {
            format!(
                "removing {image} ({}/{})",
                index + 1,
                self.queue.names.len()
            )
        } else {
            format!("removing {image}")
        }
    }
}

/// The report's result for an answer (the engine's, or the one the plan expects).
pub(super) fn result_of(image: &str, answer: &RemovalAnswer, snapshot: &Snapshot) -> ImageResult {
    ImageResult::from_records(image, &answer.records, answer.error.clone(), snapshot)
}

/// A dry run's results with their bytes counted as the real run counts them: on an engine whose
/// answers name images only, each result's bytes are the layers its deleted images leave unheld,
/// in order (the same count [`HostRun::remove_checked`] makes).
pub(super) fn count_planned_bytes(snapshot: &Snapshot, results: &mut [ImageResult]) {
    if snapshot.engine.deletes_answer_with_layers() {
        return;
    }
    let mut freed = FreedByImages::new(snapshot);
    for result in results {
        let records: Vec<DeleteRecord> = result
            .deleted
            .iter()
            .map(|id| DeleteRecord::Deleted(id.clone()))
            .collect();
        result.reclaimed_bytes = freed.count(&records);
    }
}

/// The failure of a host interrupted `what` (e.g. "interrupted before the snapshot"), naming the
/// removals it never attempted.
pub(super) fn interrupted(what: &str, left: &[String]) -> HostFailure {
    HostFailure {
        step: Step::Interrupt,
        message: format!("{what}{}", not_attempted(left)),
    }
}

/// `; not attempted: A B` for the removals a stopped host never sent, or nothing.
pub(super) fn not_attempted(images: &[String]) -> String {
    if images.is_empty() {
        String::new()
    } else {
        format!("; not attempted: {}", images.join(" "))
    }
}

/// The warning of a run whose engine deletions add up to other than the plan predicted.
pub(super) fn prediction_missed(predicted: u64, reclaimed: u64) -> Option<String> {
    (predicted != reclaimed).then(|| {
        format!(
            "the plan predicted {predicted} bytes freed, the engine's deletions add up to \
             {reclaimed}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_host_names_what_it_never_sent() {
        let left = ["a:1".to_string(), "b:1".to_string()];
        let failure = interrupted("interrupted while backing up a:1", &left);
        assert_eq!(failure.step, Step::Interrupt);
        assert_eq!(
            failure.message,
            "interrupted while backing up a:1; not attempted: a:1 b:1"
        );
        assert_eq!(interrupted("interrupted", &[]).message, "interrupted");
    }

    #[test]
    fn only_a_missed_prediction_is_a_warning() {
        assert_eq!(prediction_missed(10, 10), None);
        let warning = prediction_missed(10, 7).expect("a warning");
        assert!(warning.contains("predicted 10 bytes"), "{warning}");
        assert!(warning.contains("add up to 7"), "{warning}");
    }
}
