//! Reading a `docker save` archive back before trusting it: every tar header intact and every
//! entry's bytes present up to the end-of-archive marker, and its `manifest.json` naming the
//! images it holds, whose config and layer files must all be in the archive.
//!
//! Both formats are read: the classic one (`<id>.json` configs, `<layer>/layer.tar`, dockerd
//! up to 24) and the OCI layout (`blobs/sha256/<hex>`, Docker 25+).

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Tar blocks are 512 bytes.
const BLOCK: u64 = 512;
/// `manifest.json` larger than this is not a `docker save` manifest.
const MANIFEST_LIMIT: u64 = 64 * 1024 * 1024;

/// One image of an archive, as its `manifest.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedImage {
    /// `sha256:<hex>`, from the config file's name.
    pub id: String,
    /// The tags `docker load` will set.
    pub repo_tags: Vec<String>,
}

/// What a complete archive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveContents {
    pub images: Vec<ArchivedImage>,
    /// Bytes up to and including the end-of-archive marker.
    pub tar_bytes: u64,
}

/// Reads the archive at `path` and checks that it is whole.
pub fn read_archive(path: &Path) -> Result<ArchiveContents, String> {
    let mut file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    let length = file.metadata().map_err(|error| error.to_string())?.len();
    read_tar(&mut file, length)
}

/// The same, on any seekable reader of `length` bytes.
pub fn read_tar<R: Read + Seek>(reader: &mut R, length: u64) -> Result<ArchiveContents, String> {
    let mut position = 0u64;
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut manifest: Option<Vec<u8>> = None;
    let mut long_name: Option<String> = None;
    let end = loop {
        if position + BLOCK > length {
            return Err(format!(
                "truncated: the archive ends at byte {length} without an end-of-archive marker"
            ));
        }
        let mut header = [0u8; BLOCK as usize];
        reader
            .seek(SeekFrom::Start(position))
            .and_then(|_| reader.read_exact(&mut header))
            .map_err(|error| format!("cannot read at byte {position}: {error}"))?;
        if header.iter().all(|byte| *byte == 0) {
            break position;
        }
        check_header_sum(&header, position)?;
        let size = entry_size(&header)
            .ok_or_else(|| format!("unreadable entry size in the header at byte {position}"))?;
        let content_start = position + BLOCK;
        let next = content_start + size.div_ceil(BLOCK) * BLOCK;
        if next > length {
            return Err(format!(
                "truncated: an entry at byte {position} needs {size} bytes past the end ({length})"
            ));
        }
        let read_content = |reader: &mut R, limit: u64| -> Result<Vec<u8>, String> {
            if size > limit {
                return Err(format!("an entry at byte {position} is too large to read"));
            }
            let mut content = vec![0u8; size as usize];
            reader
                .seek(SeekFrom::Start(content_start))
                .and_then(|_| reader.read_exact(&mut content))
                .map_err(|error| format!("cannot read at byte {content_start}: {error}"))?;
            Ok(content)
        };
        match header[156] {
            // GNU long name: the next entry's name is this entry's content.
            b'L' => {
                let content = read_content(reader, 1 << 20)?;
                long_name = Some(c_string(&content));
            }
            // PAX extended header: a `path` record names the next entry.
            b'x' => {
                let content = read_content(reader, 1 << 20)?;
                if let Some(path) = pax_path(&content) {
                    long_name = Some(path);
                }
            }
            b'g' => {}
            _ => {
                let name = long_name.take().unwrap_or_else(|| header_name(&header));
                let name = name.trim_start_matches("./").to_string();
                if name == "manifest.json" {
                    manifest = Some(read_content(reader, MANIFEST_LIMIT)?);
                }
                names.insert(name);
            }
        }
        position = next;
    };
    // Go's archive/tar closes with two zero blocks.
    if end + 2 * BLOCK > length {
        return Err("truncated: the end-of-archive marker is cut short".to_string());
    }
    let manifest = manifest.ok_or("no manifest.json: not a docker save archive")?;
    let images = read_manifest(&manifest, &names)?;
    Ok(ArchiveContents {
        images,
        tar_bytes: end + 2 * BLOCK,
    })
}

/// The manifest's images, each of whose config and layers must be an entry of the archive.
fn read_manifest(manifest: &[u8], names: &BTreeSet<String>) -> Result<Vec<ArchivedImage>, String> {
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(rename = "Config")]
        config: String,
        #[serde(rename = "RepoTags", default)]
        repo_tags: Option<Vec<String>>,
        #[serde(rename = "Layers", default)]
        layers: Vec<String>,
    }
    let items: Vec<Item> = serde_json::from_slice(manifest)
        .map_err(|error| format!("unreadable manifest.json: {error}"))?;
    let mut images = Vec::with_capacity(items.len());
    for item in items {
        for file in std::iter::once(&item.config).chain(&item.layers) {
            if !names.contains(file.trim_start_matches("./")) {
                return Err(format!(
                    "manifest.json names {file}, which is not in the archive"
                ));
            }
        }
        let stem = item
            .config
            .rsplit('/')
            .next()
            .unwrap_or(&item.config)
            .trim_end_matches(".json");
        if stem.len() != 64 || !stem.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(format!(
                "manifest.json has an unexpected config {}",
                item.config
            ));
        }
        images.push(ArchivedImage {
            id: format!("sha256:{stem}"),
            repo_tags: item.repo_tags.unwrap_or_default(),
        });
    }
    Ok(images)
}

/// The header checksum: the sum of its bytes with the checksum field read as spaces.
fn check_header_sum(header: &[u8; BLOCK as usize], position: u64) -> Result<(), String> {
    let stored = octal(&header[148..156]);
    let computed: u64 = header
        .iter()
        .enumerate()
        .map(|(index, byte)| {
            if (148..156).contains(&index) {
                u64::from(b' ')
            } else {
                u64::from(*byte)
            }
        })
        .sum();
    if stored == Some(computed) {
        Ok(())
    } else {
        Err(format!(
            "corrupt tar header at byte {position} (bad checksum)"
        ))
    }
}

/// Octal (or, for large entries, GNU base-256) size field.
fn entry_size(header: &[u8; BLOCK as usize]) -> Option<u64> {
    let field = &header[124..136];
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for byte in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(*byte))?;
        }
        Some(value)
    } else {
        octal(field)
    }
}

fn octal(field: &[u8]) -> Option<u64> {
    let text: String = field
        .iter()
        .map(|byte| *byte as char)
        .filter(|c| *c != '\0' && *c != ' ')
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(&text, 8).ok()
}

/// `prefix/name` of a ustar header, or the plain name.
fn header_name(header: &[u8; BLOCK as usize]) -> String {
    let name = c_string(&header[..100]);
    if &header[257..262] == b"ustar" {
        let prefix = c_string(&header[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).to_string()
}

/// The `path` record of PAX extended header content (`"<len> path=<value>\n"` records).
fn pax_path(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    text.lines().find_map(|record| {
        let (_, field) = record.split_once(' ')?;
        field.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// A ustar header for `name` with `size` bytes of content.
    fn header(name: &str, size: u64, kind: u8) -> Vec<u8> {
        let mut header = vec![0u8; BLOCK as usize];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        let size_field = format!("{size:011o}");
        header[124..135].copy_from_slice(size_field.as_bytes());
        header[156] = kind;
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u64 = header.iter().map(|byte| u64::from(*byte)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        header
    }

    /// A tar of `(name, content)` entries, closed by two zero blocks.
    pub(crate) fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut archive = Vec::new();
        for (name, content) in entries {
            archive.extend(header(name, content.len() as u64, b'0'));
            archive.extend_from_slice(content);
            let padding = (BLOCK as usize - content.len() % BLOCK as usize) % BLOCK as usize;
            archive.extend(std::iter::repeat_n(0u8, padding));
        }
        archive.extend(std::iter::repeat_n(0u8, 2 * BLOCK as usize));
        archive
    }

    pub(crate) const HEX: &str = "8f0778d98bfd5be7258bafc0c27e5695a1d4a34447eb09d97b088ea425e23722";

    /// A classic `docker save` archive of one image with `tags` and one layer.
    pub(crate) fn saved(tags: &[&str]) -> Vec<u8> {
        let manifest = serde_json::json!([{
            "Config": format!("{HEX}.json"),
            "RepoTags": tags,
            "Layers": ["aaaa/layer.tar"],
        }])
        .to_string();
        tar(&[
            ("aaaa/layer.tar", &[7u8; 1500]),
            (&format!("{HEX}.json"), b"{}"),
            ("manifest.json", manifest.as_bytes()),
        ])
    }

    fn read(bytes: &[u8]) -> Result<ArchiveContents, String> {
        read_tar(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn a_whole_archive_lists_its_images_and_tags() {
        let bytes = saved(&["app:3", "app:latest"]);
        let contents = read(&bytes).expect("whole");
        assert_eq!(
            contents.images,
            vec![ArchivedImage {
                id: format!("sha256:{HEX}"),
                repo_tags: vec!["app:3".into(), "app:latest".into()],
            }]
        );
        assert_eq!(contents.tar_bytes, bytes.len() as u64);
    }

    #[test]
    fn an_archive_cut_anywhere_is_refused() {
        let bytes = saved(&["app:3"]);
        for cut in [100, 512, 1024, 2000, bytes.len() - 600, bytes.len() - 1] {
            assert!(read(&bytes[..cut]).is_err(), "cut at {cut} was accepted");
        }
    }

    #[test]
    fn a_flipped_header_byte_is_refused() {
        let mut bytes = saved(&["app:3"]);
        bytes[3] ^= 0x01;
        let error = read(&bytes).expect_err("corrupt");
        assert!(error.contains("checksum"), "{error}");
    }

    #[test]
    fn a_manifest_naming_a_missing_layer_is_refused() {
        let manifest = serde_json::json!([{
            "Config": format!("{HEX}.json"), "RepoTags": null, "Layers": ["gone/layer.tar"],
        }])
        .to_string();
        let bytes = tar(&[
            (&format!("{HEX}.json"), b"{}"),
            ("manifest.json", manifest.as_bytes()),
        ]);
        let error = read(&bytes).expect_err("missing layer");
        assert!(error.contains("gone/layer.tar"), "{error}");
    }

    #[test]
    fn oci_layout_configs_give_the_image_id() {
        let config = format!("blobs/sha256/{HEX}");
        let manifest = serde_json::json!([{ "Config": config, "RepoTags": ["x:1"], "Layers": [] }])
            .to_string();
        let bytes = tar(&[(&config, b"{}"), ("manifest.json", manifest.as_bytes())]);
        assert_eq!(
            read(&bytes).expect("oci").images[0].id,
            format!("sha256:{HEX}")
        );
    }

    #[test]
    fn a_tar_without_manifest_is_not_a_docker_archive() {
        let bytes = tar(&[("hello.txt", b"hi")]);
        assert!(
            read(&bytes)
                .expect_err("no manifest")
                .contains("manifest.json")
        );
    }
}
