//! What `fleetrmi --version` says: the crate's version and the commit it was built from
//! (`build.rs` reads it from git, or from `FLEETRMI_BUILD_COMMIT` outside a checkout).

/// `0.1.0 (commit 1a2b3c4d5e6f, 2026-12-07)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("FLEETRMI_BUILD_COMMIT"),
    ")"
);
