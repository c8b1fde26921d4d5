//! `fleetrmi images`: the images of every host, as one fleet-wide list grouped by tag or by image
//! ID with the hosts that have each, or as each host's own list.

use std::collections::{BTreeMap, BTreeSet};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use serde::Serialize;

use super::age::ago;
use super::format::bytes;
use super::observed_host::{ObservedHost, StatusCounts};
use crate::data::ListedImage;

/// How the fleet-wide list is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageLayout {
    /// One entry per `repo:tag` (untagged images: one per ID), with the image IDs it names.
    Tag,
    /// One entry per image ID, with the tags it has on each host.
    Id,
    /// One entry per host and image, as each engine listed them.
    Host,
}

/// One host's listing.
#[derive(Debug, Clone, Serialize)]
pub struct ImagesHost {
    #[serde(flatten)]
    pub outcome: ObservedHost,
    /// In JSON, how many images the host listed; the images themselves are in `images`.
    #[serde(rename = "images", serialize_with = "count")]
    pub images: Vec<ListedImage>,
}

/// One host's share of a fleet-wide entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostHolding {
    pub host: String,
    /// Containers (any state) on that host using the image.
    pub containers: u64,
    pub running_containers: u64,
    /// The image's tags on that host (by-ID layout only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_tags: Option<Vec<String>>,
}

/// A `repo:tag` across the fleet (`reference` null: an untagged image, one entry per ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagEntry {
    pub reference: Option<String>,
    /// The images this reference names, most hosts first: one unless the tag differs between hosts.
    pub variants: Vec<TagVariant>,
}

/// One image ID that a reference names on some hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagVariant {
    pub id: String,
    pub created: i64,
    pub size: u64,
    pub containers: u64,
    pub hosts: Vec<HostHolding>,
}

/// An image ID across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdEntry {
    pub id: String,
    pub created: i64,
    pub size: u64,
    /// Every tag the image has on some host.
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub containers: u64,
    pub hosts: Vec<HostHolding>,
}

/// One image on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostImage {
    pub host: String,
    #[serde(flatten)]
    pub image: ListedImage,
}

/// The whole `images` run.
#[derive(Debug, Clone)]
pub struct ImagesReport {
    pub layout: ImageLayout,
    pub hosts: Vec<ImagesHost>,
    pub totals: ImagesTotals,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImagesTotals {
    #[serde(flatten)]
    pub counts: StatusCounts,
    /// Distinct image IDs over the hosts reached.
    pub images: usize,
    /// Distinct tags over the hosts reached.
    pub tags: usize,
    pub duration_ms: u64,
}

#[derive(Serialize)]
struct ImagesDocument<'a, T: Serialize> {
    layout: ImageLayout,
    images: T,
    hosts: &'a [ImagesHost],
    totals: &'a ImagesTotals,
}

impl ImagesReport {
    pub fn new(
        layout: ImageLayout,
        hosts: Vec<ImagesHost>,
        elapsed: std::time::Duration,
    ) -> ImagesReport {
        let counts = StatusCounts::count(hosts.iter().map(|host| &host.outcome));
        let listed = || hosts.iter().flat_map(|host| host.images.iter());
        let images = listed()
            .map(|image| image.id.as_str())
            .collect::<BTreeSet<_>>()
            .len();
        let tags = listed()
            .flat_map(|image| image.repo_tags.iter())
            .collect::<BTreeSet<_>>()
            .len();
        let totals = ImagesTotals {
            counts,
            images,
            tags,
            duration_ms: elapsed.as_millis() as u64,
        };
        ImagesReport {
            layout,
            hosts,
            totals,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.totals.counts.exit_code()
    }

    pub fn render_json(&self) -> Result<String, serde_json::Error> {
        match self.layout {
            ImageLayout::Tag => self.document(by_tag(&self.hosts)),
            ImageLayout::Id => self.document(by_id(&self.hosts)),
            ImageLayout::Host => self.document(per_host(&self.hosts)),
        }
    }

    fn document<T: Serialize>(&self, images: T) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(&ImagesDocument {
            layout: self.layout,
            images,
            hosts: &self.hosts,
            totals: &self.totals,
        })
    }

    /// The table for people; `now` (unix seconds) dates the CREATED column.
    pub fn render_table(&self, now: i64) -> String {
        let reached = self.totals.counts.ok;
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        match self.layout {
            ImageLayout::Tag => {
                table.set_header([
                    "repository",
                    "tag",
                    "image id",
                    "created",
                    "size",
                    "hosts",
                    "containers",
                ]);
                for entry in by_tag(&self.hosts) {
                    let (repository, tag) = entry
                        .reference
                        .as_deref()
                        .map(split_tag)
                        .unwrap_or(("<none>", "<none>"));
                    for variant in &entry.variants {
                        table.add_row(vec![
                            Cell::new(repository),
                            Cell::new(tag),
                            Cell::new(short_id(&variant.id)),
                            Cell::new(ago(variant.created, now)),
                            right(bytes(variant.size)),
                            Cell::new(hosts_text(&variant.hosts, reached)),
                            right(variant.containers.to_string()),
                        ]);
                    }
                }
            }
            ImageLayout::Id => {
                table.set_header(["image id", "tags", "created", "size", "hosts", "containers"]);
                for entry in by_id(&self.hosts) {
                    let tags = if entry.repo_tags.is_empty() {
                        "<none>".to_string()
                    } else {
                        entry.repo_tags.join("\n")
                    };
                    table.add_row(vec![
                        Cell::new(short_id(&entry.id)),
                        Cell::new(tags),
                        Cell::new(ago(entry.created, now)),
                        right(bytes(entry.size)),
                        Cell::new(hosts_text(&entry.hosts, reached)),
                        right(entry.containers.to_string()),
                    ]);
                }
            }
            ImageLayout::Host => {
                table.set_header([
                    "host",
                    "repository",
                    "tag",
                    "image id",
                    "created",
                    "size",
                    "containers",
                ]);
                for row in per_host(&self.hosts) {
                    for (repository, tag) in docker_rows(&row.image) {
                        table.add_row(vec![
                            Cell::new(&row.host),
                            Cell::new(repository),
                            Cell::new(tag),
                            Cell::new(short_id(&row.image.id)),
                            Cell::new(ago(row.image.created, now)),
                            right(bytes(row.image.size)),
                            right(row.image.containers.to_string()),
                        ]);
                    }
                }
            }
        }
        let mut text = table.to_string();
        text.push_str(&format!(
            "\n{} images, {} tags on {} of {} hosts ({})",
            self.totals.images,
            self.totals.tags,
            reached,
            self.totals.counts.hosts,
            self.totals.counts.summary()
        ));
        text
    }
}

/// One entry per reference; untagged images one entry per ID, after the tagged ones.
pub fn by_tag(hosts: &[ImagesHost]) -> Vec<TagEntry> {
    // reference (None: untagged, keyed by ID) → image ID → variant
    let mut tagged: BTreeMap<String, BTreeMap<String, TagVariant>> = BTreeMap::new();
    let mut untagged: BTreeMap<String, TagVariant> = BTreeMap::new();
    for host in hosts {
        for image in &host.images {
            if image.repo_tags.is_empty() {
                add_holding(&mut untagged, host, image);
            }
            for tag in &image.repo_tags {
                add_holding(tagged.entry(tag.clone()).or_default(), host, image);
            }
        }
    }
    let mut entries: Vec<TagEntry> = tagged
        .into_iter()
        .map(|(reference, variants)| TagEntry {
            reference: Some(reference),
            variants: most_hosts_first(variants.into_values().collect()),
        })
        .collect();
    let mut loose: Vec<TagVariant> = untagged.into_values().collect();
    loose.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    entries.extend(loose.into_iter().map(|variant| TagEntry {
        reference: None,
        variants: vec![variant],
    }));
    entries
}

fn add_holding(
    variants: &mut BTreeMap<String, TagVariant>,
    host: &ImagesHost,
    image: &ListedImage,
) {
    let variant = variants
        .entry(image.id.clone())
        .or_insert_with(|| TagVariant {
            id: image.id.clone(),
            created: image.created,
            size: image.size,
            containers: 0,
            hosts: Vec::new(),
        });
    variant.containers += image.containers;
    variant.hosts.push(holding(host, image, None));
}

fn most_hosts_first(mut variants: Vec<TagVariant>) -> Vec<TagVariant> {
    variants.sort_by(|a, b| {
        b.hosts
            .len()
            .cmp(&a.hosts.len())
            .then_with(|| b.created.cmp(&a.created))
            .then_with(|| a.id.cmp(&b.id))
    });
    variants
}

/// One entry per image ID, newest first.
pub fn by_id(hosts: &[ImagesHost]) -> Vec<IdEntry> {
    let mut entries: BTreeMap<String, IdEntry> = BTreeMap::new();
    for host in hosts {
        for image in &host.images {
            let entry = entries.entry(image.id.clone()).or_insert_with(|| IdEntry {
                id: image.id.clone(),
                created: image.created,
                size: image.size,
                repo_tags: Vec::new(),
                repo_digests: Vec::new(),
                containers: 0,
                hosts: Vec::new(),
            });
            merge_sorted(&mut entry.repo_tags, &image.repo_tags);
            merge_sorted(&mut entry.repo_digests, &image.repo_digests);
            entry.containers += image.containers;
            entry
                .hosts
                .push(holding(host, image, Some(image.repo_tags.clone())));
        }
    }
    let mut entries: Vec<IdEntry> = entries.into_values().collect();
    entries.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    entries
}

/// Every host's list as its engine gave it, hosts in inventory order.
pub fn per_host(hosts: &[ImagesHost]) -> Vec<HostImage> {
    hosts
        .iter()
        .flat_map(|host| {
            host.images.iter().map(|image| HostImage {
                host: host.outcome.host.clone(),
                image: image.clone(),
            })
        })
        .collect()
}

fn holding(host: &ImagesHost, image: &ListedImage, repo_tags: Option<Vec<String>>) -> HostHolding {
    HostHolding {
        host: host.outcome.host.clone(),
        containers: image.containers,
        running_containers: image.running_containers,
        repo_tags,
    }
}

fn merge_sorted(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
    into.sort();
}

/// `docker images` rows of one image: one per tag, one per repository known only by digest, or
/// a single `<none> <none>`.
pub fn docker_rows(image: &ListedImage) -> Vec<(&str, &str)> {
    let (digests, tags): (Vec<&String>, Vec<&String>) =
        image.repo_tags.iter().partition(|name| name.contains('@'));
    let mut rows: Vec<(&str, &str)> = tags.iter().map(|tag| split_tag(tag)).collect();
    // A repository known by digest only gets one row without a tag; a digest of a tagged
    // repository (listed among the names by the containerd store and Podman) gets none.
    for digest in image.repo_digests.iter().chain(digests) {
        let repository = digest.split_once('@').map_or(digest.as_str(), |(r, _)| r);
        if !rows.iter().any(|(r, _)| *r == repository) {
            rows.push((repository, "<none>"));
        }
    }
    if rows.is_empty() {
        rows.push(("<none>", "<none>"));
    }
    rows
}

/// `registry:5000/team/app:1` → (`registry:5000/team/app`, `1`). A colon before the last `/`
/// belongs to the registry's port, not to a tag. A digest reference (`repo@sha256:…`, which the
/// containerd store and Podman list among the tags of an image known only by digest) has no
/// tag: (`repo`, `<none>`), as `docker images` shows it.
pub fn split_tag(reference: &str) -> (&str, &str) {
    if let Some((repository, _digest)) = reference.split_once('@') {
        return (repository, "<none>");
    }
    match reference.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (reference, "<none>"),
    }
}

/// The first 12 hex digits, as `docker images` shows an ID.
fn short_id(id: &str) -> &str {
    crate::snapshot::short_id(id)
}

/// `all 3`, or `2 of 3: h1, h3` (at most three names).
fn hosts_text(hosts: &[HostHolding], reached: usize) -> String {
    if hosts.len() == reached && reached > 1 {
        return format!("all {reached}");
    }
    let names: Vec<&str> = hosts.iter().take(3).map(|h| h.host.as_str()).collect();
    let more = hosts.len().saturating_sub(names.len());
    let mut text = format!("{} of {}: {}", hosts.len(), reached, names.join(", "));
    if more > 0 {
        text.push_str(&format!(", +{more}"));
    }
    text
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn count<S: serde::Serializer>(images: &[ListedImage], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(images.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Step;

    fn image(id: &str, tags: &[&str], created: i64) -> ListedImage {
        ListedImage {
            id: format!("sha256:{id}"),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            created,
            size: 1_000,
            ..ListedImage::default()
        }
    }

    fn host(name: &str, images: Vec<ListedImage>) -> ImagesHost {
        ImagesHost {
            outcome: ObservedHost::new(name, "127.0.0.1"),
            images,
        }
    }

    #[test]
    fn tag_on_every_host_is_one_entry_with_every_host() {
        let hosts = vec![
            host("h1", vec![image("aa", &["app:1"], 10)]),
            host("h2", vec![image("aa", &["app:1"], 10)]),
        ];
        let entries = by_tag(&hosts);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].reference.as_deref(), Some("app:1"));
        assert_eq!(entries[0].variants.len(), 1);
        let names: Vec<&str> = entries[0].variants[0]
            .hosts
            .iter()
            .map(|h| h.host.as_str())
            .collect();
        assert_eq!(names, vec!["h1", "h2"]);
    }

    #[test]
    fn tag_naming_different_images_has_one_variant_per_id_most_hosts_first() {
        let hosts = vec![
            host("h1", vec![image("bb", &["app:1"], 20)]),
            host("h2", vec![image("aa", &["app:1"], 10)]),
            host("h3", vec![image("aa", &["app:1"], 10)]),
        ];
        let entries = by_tag(&hosts);
        let ids: Vec<&str> = entries[0].variants.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, vec!["sha256:aa", "sha256:bb"]);
    }

    #[test]
    fn untagged_images_come_last_one_entry_per_id() {
        let hosts = vec![host(
            "h1",
            vec![
                image("cc", &[], 5),
                image("aa", &["app:1", "app:latest"], 10),
                image("dd", &[], 7),
            ],
        )];
        let entries = by_tag(&hosts);
        let keys: Vec<Option<&str>> = entries.iter().map(|e| e.reference.as_deref()).collect();
        assert_eq!(keys, vec![Some("app:1"), Some("app:latest"), None, None]);
        assert_eq!(entries[2].variants[0].id, "sha256:dd");
    }

    #[test]
    fn by_id_unions_tags_and_keeps_each_hosts_own() {
        let hosts = vec![
            host("h1", vec![image("aa", &["app:1"], 10)]),
            host("h2", vec![image("aa", &["app:1", "extra:1"], 10)]),
            host("h3", vec![image("bb", &["new:1"], 30)]),
        ];
        let entries = by_id(&hosts);
        assert_eq!(entries[0].id, "sha256:bb", "newest first");
        assert_eq!(entries[1].repo_tags, vec!["app:1", "extra:1"]);
        assert_eq!(
            entries[1].hosts[0].repo_tags,
            Some(vec!["app:1".to_string()])
        );
    }

    #[test]
    fn containers_add_up_across_hosts() {
        let mut used = image("aa", &["run:1"], 10);
        used.containers = 2;
        used.running_containers = 1;
        let hosts = vec![host("h1", vec![used.clone()]), host("h2", vec![used])];
        assert_eq!(by_id(&hosts)[0].containers, 4);
        assert_eq!(by_tag(&hosts)[0].variants[0].containers, 4);
    }

    #[test]
    fn unreachable_host_lists_nothing_and_counts_in_totals() {
        let mut down = host("h2", Vec::new());
        down.outcome.fail(Step::Connect, "refused".into());
        let report = ImagesReport::new(
            ImageLayout::Tag,
            vec![host("h1", vec![image("aa", &["app:1"], 10)]), down],
            Default::default(),
        );
        assert_eq!(report.totals.counts.unreachable, 1);
        assert_eq!(report.totals.images, 1);
        assert_eq!(
            report.exit_code(),
            crate::report::exit_code::HOST_UNREACHABLE
        );
        let json: serde_json::Value =
            serde_json::from_str(&report.render_json().expect("json")).expect("valid");
        assert_eq!(json["layout"], "tag");
        assert_eq!(json["hosts"][0]["images"], 1);
        assert_eq!(json["hosts"][1]["failure"]["step"], "connect");
        assert_eq!(json["images"][0]["variants"][0]["hosts"][0]["host"], "h1");
    }

    #[test]
    fn per_host_json_is_flat_with_host_names() {
        let report = ImagesReport::new(
            ImageLayout::Host,
            vec![host("h1", vec![image("aa", &["app:1"], 10)])],
            Default::default(),
        );
        let json: serde_json::Value =
            serde_json::from_str(&report.render_json().expect("json")).expect("valid");
        assert_eq!(json["images"][0]["host"], "h1");
        assert_eq!(json["images"][0]["id"], "sha256:aa");
        assert_eq!(json["images"][0]["repo_tags"][0], "app:1");
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        assert_eq!(split_tag("app:1"), ("app", "1"));
        assert_eq!(
            split_tag("registry:5000/team/app:1"),
            ("registry:5000/team/app", "1")
        );
        assert_eq!(
            split_tag("registry:5000/team/app"),
            ("registry:5000/team/app", "<none>")
        );
    }

    #[test]
    fn a_digest_listed_among_the_tags_is_a_repository_without_tag() {
        let digest = format!("localhost:5055/dg@sha256:{}", "c".repeat(64));
        assert_eq!(split_tag(&digest), ("localhost:5055/dg", "<none>"));
        let digest_only = image("aa", &[digest.as_str()], 1);
        assert_eq!(
            docker_rows(&digest_only),
            vec![("localhost:5055/dg", "<none>")]
        );
    }

    #[test]
    fn docker_rows_follow_the_cli() {
        let mut digest_only = image("aa", &[], 1);
        digest_only.repo_digests = vec!["localhost:5055/dg@sha256:cc".into()];
        assert_eq!(
            docker_rows(&digest_only),
            vec![("localhost:5055/dg", "<none>")]
        );
        assert_eq!(
            docker_rows(&image("bb", &[], 1)),
            vec![("<none>", "<none>")]
        );
        let mut tagged = image("cc", &["dg:1"], 1);
        tagged.repo_digests = vec!["dg@sha256:cc".into()];
        assert_eq!(docker_rows(&tagged), vec![("dg", "1")]);
        // Podman lists a pulled digest among the names, before or after the tag.
        let pulled = image("dd", &["dg@sha256:dd", "dg:1"], 1);
        assert_eq!(docker_rows(&pulled), vec![("dg", "1")]);
    }

    #[test]
    fn hosts_cell_says_all_or_names_a_few() {
        let holding = |name: &str| HostHolding {
            host: name.into(),
            containers: 0,
            running_containers: 0,
            repo_tags: None,
        };
        let three = vec![holding("a"), holding("b"), holding("c")];
        assert_eq!(hosts_text(&three, 3), "all 3");
        assert_eq!(hosts_text(&three[..2], 3), "2 of 3: a, b");
        let five: Vec<HostHolding> = ["a", "b", "c", "d", "e"].map(holding).into();
        assert_eq!(hosts_text(&five, 9), "5 of 9: a, b, c, +2");
    }
}
