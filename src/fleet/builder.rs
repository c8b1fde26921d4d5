//! `builder prune` on one host: the engine's own build cache prune, or a clear word when the
//! engine has no build cache API.

use crate::engine::{
    BuildCacheSupport, BuildPruneOptions, build_cache_support, unsupported_answer,
};
use crate::report::{BuildCacheOutcome, HostFailure, HostReport, Step};

use super::HostTarget;
use super::connect::{ConnectOptions, on_connected_host};
use super::control::RunControl;
use super::progress::HostProgress;

/// What the user asked `builder prune` to do on every host.
#[derive(Debug, Clone, Default)]
pub struct BuilderPruneRequest {
    pub options: BuildPruneOptions,
}

/// Prunes the host's build cache and reports what the engine reclaimed.
pub async fn builder_prune_on_host(
    target: HostTarget,
    request: &BuilderPruneRequest,
    options: &ConnectOptions,
    progress: HostProgress,
    _control: RunControl,
) -> HostReport {
    let report = HostReport::new(&target.name, &target.address);
    on_connected_host(&target, options, &progress, report, async |host, report| {
        let message = match build_cache_support(&host.engine.info.api_version) {
            BuildCacheSupport::Unsupported(message) => message,
            BuildCacheSupport::Supported => {
                progress.changing_step("pruning the build cache");
                match host.engine.prune_build_cache(&request.options).await {
                    Ok(answer) => {
                        report.reclaimed_bytes = answer.space_reclaimed;
                        report.build_cache = Some(BuildCacheOutcome {
                            supported: true,
                            caches_deleted: answer.caches_deleted.len(),
                            reclaimed_bytes: answer.space_reclaimed,
                            message: None,
                        });
                        return Ok(());
                    }
                    Err(error) => unsupported_answer(&error).ok_or_else(|| HostFailure {
                        step: Step::BuildCache,
                        message: error.to_string(),
                    })?,
                }
            }
        };
        report
            .warnings
            .push(format!("no build cache pruned: {message}"));
        report.build_cache = Some(BuildCacheOutcome {
            supported: false,
            message: Some(message),
            ..BuildCacheOutcome::default()
        });
        Ok(())
    })
    .await
}
