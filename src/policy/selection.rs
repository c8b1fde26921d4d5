//! The rules applied to one image, before anything is removed: kept (and why), or a candidate
//! (and which rules chose it). Keep always wins over remove.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::plan::SimulatedStore;
use crate::reference::Reference;
use crate::snapshot::{ContainerState, ImageRecord, short_id};

use super::decision::Reason;
use super::filters::{FilteredOut, created_at};
use super::rules::PolicyRequest;
use super::units::format_age;

/// The rules' verdict on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep(Reason, String),
    /// The rules select it; the text says which.
    Candidate(String),
}

/// What the rules need to know about the host as a whole.
pub(crate) struct Selection<'a> {
    request: &'a PolicyRequest,
    /// Image ID → the repository whose newest N it is among.
    newest: BTreeMap<String, String>,
}

impl<'a> Selection<'a> {
    pub(crate) fn new(store: &SimulatedStore, request: &'a PolicyRequest) -> Selection<'a> {
        let newest = match request.rules.keep_last {
            Some(count) => newest_per_repository(store, count),
            None => BTreeMap::new(),
        };
        Selection { request, newest }
    }

    /// Protected by `--keep`, `--keep-label` or `--keep-last`: never removed, even with force,
    /// and never pruned as a parent.
    pub(crate) fn protection(&self, store: &SimulatedStore, id: &str) -> Option<(Reason, String)> {
        let rules = &self.request.rules;
        let image = store.images.get(id)?;
        let references = store.references_of(id);
        if let Some(pattern) = rules
            .keep
            .iter()
            .find(|pattern| pattern.matches_any(&references))
        {
            return Some((
                Reason::KeepPattern,
                format!("protected: matches --keep {pattern}"),
            ));
        }
        if let Some(label) = rules
            .keep_labels
            .iter()
            .find(|label| label.matches(&image.labels))
        {
            return Some((
                Reason::KeepLabel,
                format!("protected: has label {label} (--keep-label)"),
            ));
        }
        if let (Some(repository), Some(count)) = (self.newest.get(id), rules.keep_last) {
            return Some((
                Reason::KeepLast,
                format!("protected: one of the newest {count} of {repository} (--keep-last)"),
            ));
        }
        None
    }

    /// The verdict on one image of the snapshot (`store` as loaded, nothing removed yet).
    pub(crate) fn judge(&self, store: &SimulatedStore, id: &str) -> Verdict {
        let Some(image) = store.images.get(id) else {
            return Verdict::Keep(Reason::Refused, "not in the snapshot".to_owned());
        };
        let request = self.request;
        let rules = &request.rules;
        if let Some((reason, detail)) = container_keep(store, id, request.force, true) {
            return Verdict::Keep(reason, detail);
        }
        if let Some((reason, detail)) = self.protection(store, id) {
            return Verdict::Keep(reason, detail);
        }
        if is_intermediate(store, id) {
            return Verdict::Keep(Reason::Intermediate, intermediate_detail());
        }
        let references = store.references_of(id);
        let tagged = references.iter().any(|reference| reference.tag().is_some());
        if tagged && !request.all {
            return Verdict::Keep(
                Reason::Tagged,
                "tagged: only dangling images are considered without --all".to_owned(),
            );
        }
        if let Some(out) = request.filters.excludes(image) {
            return Verdict::Keep(filter_reason(&out), filter_detail(&out, request, image));
        }
        let mut why = vec![if tagged { "unused" } else { "dangling" }.to_owned()];
        if !rules.matches.is_empty() {
            match rules
                .matches
                .iter()
                .find(|pattern| pattern.matches_any(&references))
            {
                Some(pattern) => why.push(format!("matches {pattern}")),
                None => {
                    let patterns: Vec<String> =
                        rules.matches.iter().map(ToString::to_string).collect();
                    return Verdict::Keep(
                        Reason::NotMatched,
                        format!("matches no --match pattern ({})", patterns.join(", ")),
                    );
                }
            }
        }
        if let Some(older_than) = rules.older_than {
            let age = created_at(image).age_at(request.now);
            let cutoff = request.now.minus(older_than);
            if created_at(image) > cutoff {
                return Verdict::Keep(
                    Reason::TooNew,
                    format!(
                        "created {} ago, not older than {}",
                        format_age(age),
                        format_age(older_than)
                    ),
                );
            }
            why.push(format!("created {} ago", format_age(age)));
        }
        if request.filters.until.is_some() {
            why.push("created before until".to_owned());
        }
        Verdict::Candidate(why.join("; "))
    }
}

/// The container reasons: a running container always keeps its image; a stopped one keeps it
/// unless forced (`forceable`: whether `--force` would change that, as it does with rules).
pub(crate) fn container_keep(
    store: &SimulatedStore,
    id: &str,
    force: bool,
    forceable: bool,
) -> Option<(Reason, String)> {
    if let Some(container) = store.first_container_using(id, Some(ContainerState::Running)) {
        return Some((
            Reason::RunningContainer,
            format!("used by running container {}", short_id(&container.id)),
        ));
    }
    if force {
        return None;
    }
    store
        .first_container_using(id, Some(ContainerState::Stopped))
        .map(|container| {
            let note = if forceable {
                " (--force would remove the image; its layers stay until the container goes)"
            } else {
                ""
            };
            (
                Reason::StoppedContainer,
                format!(
                    "used by stopped container {}{note}",
                    short_id(&container.id)
                ),
            )
        })
}

/// An untagged image with children: a legacy builder's intermediate step.
pub(crate) fn is_intermediate(store: &SimulatedStore, id: &str) -> bool {
    !store.has_references(id) && store.has_children(id)
}

pub(crate) fn intermediate_detail() -> String {
    "untagged parent (build step): goes only with its last child".to_owned()
}

pub(crate) fn filter_reason(out: &FilteredOut) -> Reason {
    match out {
        FilteredOut::Until => Reason::FilteredUntil,
        FilteredOut::Label => Reason::FilteredLabel,
    }
}

pub(crate) fn filter_detail(
    out: &FilteredOut,
    request: &PolicyRequest,
    image: &ImageRecord,
) -> String {
    match (out, &request.filters.until) {
        (FilteredOut::Until, Some(until)) => format!(
            "created {}, after until={} ({})",
            created_at(image),
            until.text,
            until.at
        ),
        _ => "left out by the label filters".to_owned(),
    }
}

/// The images that stay and name `id` as their parent, for "child images stay" messages.
pub(crate) fn children_names(store: &SimulatedStore, id: &str) -> String {
    let names: Vec<String> = store
        .images
        .values()
        .filter(|image| image.parent.as_deref() == Some(id))
        .map(|image| image_name(store, &image.id))
        .collect();
    match names.len() {
        0..=3 => names.join(", "),
        more => format!("{} and {} more", names[..3].join(", "), more - 3),
    }
}

/// An image's references, or its short ID.
pub(crate) fn image_name(store: &SimulatedStore, id: &str) -> String {
    let references: Vec<String> = store
        .references_of(id)
        .iter()
        .map(Reference::familiar)
        .collect();
    if references.is_empty() {
        short_id(id).to_owned()
    } else {
        references.join(", ")
    }
}

/// The newest `count` images of every repository (by creation time, ties broken by the
/// greatest tag in natural order, then by ID), each with that repository's name. An image in
/// several repositories is protected when it is among the newest of any of them.
fn newest_per_repository(store: &SimulatedStore, count: usize) -> BTreeMap<String, String> {
    let mut repositories: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in store.image_ids() {
        for reference in store.references_of(id) {
            repositories
                .entry(reference.familiar_name())
                .or_default()
                .insert(id.to_owned());
        }
    }
    let mut newest = BTreeMap::new();
    for (repository, ids) in repositories {
        let mut ranked: Vec<(&ImageRecord, Option<String>)> = ids
            .iter()
            .filter_map(|id| store.images.get(id))
            .map(|image| (image, greatest_tag(store, &image.id, &repository)))
            .collect();
        ranked.sort_by(|(a, a_tag), (b, b_tag)| {
            created_at(b)
                .cmp(&created_at(a))
                .then_with(|| natural_order(b_tag.as_deref(), a_tag.as_deref()))
                .then_with(|| a.id.cmp(&b.id))
        });
        for (image, _) in ranked.into_iter().take(count) {
            newest
                .entry(image.id.clone())
                .or_insert_with(|| repository.clone());
        }
    }
    newest
}

/// The image's greatest tag in `repository`, in natural order.
fn greatest_tag(store: &SimulatedStore, id: &str, repository: &str) -> Option<String> {
    store
        .references_of(id)
        .iter()
        .filter(|reference| reference.familiar_name() == repository)
        .filter_map(|reference| reference.tag().map(str::to_owned))
        .max_by(|a, b| natural_order(Some(a), Some(b)))
}

/// Compares tags as people read versions: runs of digits by value (`pr-9` < `pr-10`), the rest
/// by text; no tag sorts first.
pub(crate) fn natural_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Less,
        (Some(_), None) => return Ordering::Greater,
        (Some(a), Some(b)) => (a, b),
    };
    let (mut left, mut right) = (chunks(a), chunks(b));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u128>(), y.parse::<u128>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Splits text into runs of digits and runs of other characters.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() != digits)
            .map_or(rest.len(), |(index, _)| index);
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_reads_numbers_as_numbers() {
        assert_eq!(natural_order(Some("pr-9"), Some("pr-10")), Ordering::Less);
        assert_eq!(natural_order(Some("3"), Some("latest")), Ordering::Less);
        assert_eq!(natural_order(Some("1.10"), Some("1.9")), Ordering::Greater);
        assert_eq!(natural_order(None, Some("1")), Ordering::Less);
        assert_eq!(natural_order(Some("a"), Some("a")), Ordering::Equal);
    }
}
