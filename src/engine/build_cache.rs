//! `POST /build/prune`: the engine's own build cache pruning (`docker builder prune`), and
//! whether an engine has it at all.
//!
//! The call goes through a plain request rather than bollard: bollard 0.21 follows API 1.53,
//! whose options replaced `keep-storage` with `reserved-space`, while the versions fleetrmi
//! negotiates (1.39–1.47) know only `keep-storage`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::export::query_value;
use super::{ApiVersion, Engine, EngineError};

/// The first API version with `POST /build/prune` and its `all`, `filters` and `keep-storage`.
pub const BUILD_PRUNE_API: ApiVersion = ApiVersion {
    major: 1,
    minor: 39,
};

/// What to prune, as `docker builder prune` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildPruneOptions {
    /// `--all`: every unused cache record, not only dangling ones.
    pub all: bool,
    /// `--filter KEY=VALUE`, grouped by key.
    pub filters: BTreeMap<String, Vec<String>>,
    /// `--keep-storage`: bytes of cache to keep.
    pub keep_storage: Option<u64>,
}

/// The engine's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct BuildCachePruned {
    #[serde(rename = "CachesDeleted", default, deserialize_with = "null_as_empty")]
    pub caches_deleted: Vec<String>,
    #[serde(rename = "SpaceReclaimed", default)]
    pub space_reclaimed: u64,
}

/// Whether an engine has a build cache API, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildCacheSupport {
    Supported,
    Unsupported(String),
}

/// Decides from the negotiated API version; an engine without the endpoint says so later with
/// its answer (see [`unsupported_answer`]).
pub fn build_cache_support(api_version: &str) -> BuildCacheSupport {
    match ApiVersion::parse(api_version) {
        Some(version) if version >= BUILD_PRUNE_API => BuildCacheSupport::Supported,
        Some(version) => BuildCacheSupport::Unsupported(format!(
            "the engine speaks Docker API {version}; build cache pruning needs {BUILD_PRUNE_API} \
             or newer (Docker 18.09+)"
        )),
        None => BuildCacheSupport::Unsupported(format!(
            "the engine reported an unreadable API version {api_version:?}"
        )),
    }
}

/// An engine answer that means "no build cache here" rather than a failure: no such endpoint
/// (404, 501), or a daemon built or configured without BuildKit.
pub fn unsupported_answer(error: &EngineError) -> Option<String> {
    let EngineError::Api { status, message } = error else {
        return None;
    };
    let lower = message.to_ascii_lowercase();
    if matches!(status, 404 | 405 | 501)
        || lower.contains("not implemented")
        || lower.contains("not supported")
        || lower.contains("buildkit is not enabled")
    {
        Some(format!(
            "the engine has no build cache to prune ({status}: {})",
            if message.is_empty() {
                "no such endpoint"
            } else {
                message
            }
        ))
    } else {
        None
    }
}

/// Times a prune is tried while the engine says another one is running.
const BUSY_ATTEMPTS: u32 = 5;

impl Engine {
    /// `docker builder prune [-a] [--filter …] [--keep-storage …]` on this host. A prune the
    /// engine refuses because another is running (409) is retried with a short backoff.
    pub async fn prune_build_cache(
        &self,
        options: &BuildPruneOptions,
    ) -> Result<BuildCachePruned, EngineError> {
        let path = prune_path(options);
        let mut wait = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.post_json(&path).await {
                Err(EngineError::Api { status: 409, .. }) if attempt < BUSY_ATTEMPTS => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn post_json(&self, path: &str) -> Result<BuildCachePruned, EngineError> {
        self.raw
            .call_json("prune the build cache", hyper::Method::POST, path)
            .await
    }
}

/// `/build/prune?all=…&filters=…&keep-storage=…`, with only what was asked for.
fn prune_path(options: &BuildPruneOptions) -> String {
    let mut query = Vec::new();
    if options.all {
        query.push("all=1".to_string());
    }
    if !options.filters.is_empty() {
        let json = serde_json::to_string(&options.filters).unwrap_or_else(|_| "{}".to_string());
        query.push(format!("filters={}", query_value(&json)));
    }
    if let Some(bytes) = options.keep_storage {
        query.push(format!("keep-storage={bytes}"));
    }
    if query.is_empty() {
        "/build/prune".to_string()
    } else {
        format!("/build/prune?{}", query.join("&"))
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_before_api_1_39_have_no_build_cache_api() {
        assert_eq!(build_cache_support("1.41"), BuildCacheSupport::Supported);
        assert_eq!(build_cache_support("1.39"), BuildCacheSupport::Supported);
        let BuildCacheSupport::Unsupported(message) = build_cache_support("1.38") else {
            panic!("1.38 has no /build/prune");
        };
        assert!(message.contains("1.39"), "{message}");
    }

    #[test]
    fn missing_endpoint_is_unsupported_but_a_conflict_is_an_error() {
        let missing = EngineError::Api {
            status: 404,
            message: "page not found".into(),
        };
        assert!(unsupported_answer(&missing).is_some());
        let no_buildkit = EngineError::Api {
            status: 500,
            message: "BuildKit is not enabled".into(),
        };
        assert!(unsupported_answer(&no_buildkit).is_some());
        let busy = EngineError::Api {
            status: 409,
            message: "a prune operation is already running".into(),
        };
        assert_eq!(unsupported_answer(&busy), None);
    }

    #[test]
    fn query_has_only_what_was_asked() {
        assert_eq!(prune_path(&BuildPruneOptions::default()), "/build/prune");
        let mut filters = BTreeMap::new();
        filters.insert("until".to_string(), vec!["24h".to_string()]);
        let path = prune_path(&BuildPruneOptions {
            all: true,
            filters,
            keep_storage: Some(1024),
        });
        assert_eq!(
            path,
            "/build/prune?all=1&filters=%7B%22until%22%3A%5B%2224h%22%5D%7D&keep-storage=1024"
        );
    }

    #[test]
    fn null_caches_deleted_reads_as_none() {
        let answer: BuildCachePruned =
            serde_json::from_str(r#"{"CachesDeleted":null,"SpaceReclaimed":0}"#).expect("json");
        assert_eq!(answer, BuildCachePruned::default());
    }
}
