//! Docker Engine API versions (`1.41`), compared numerically.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number_not_text() {
        let old = ApiVersion::parse("1.9").expect("parses");
        let new = ApiVersion::parse("1.41").expect("parses");
        assert!(old < new);
        assert_eq!(new.to_string(), "1.41");
    }

    #[test]
    fn garbage_is_not_a_version() {
        assert_eq!(ApiVersion::parse("latest"), None);
        assert_eq!(ApiVersion::parse("1."), None);
    }
}
