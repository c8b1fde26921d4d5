//! Why a string is not an image reference, for people and in the daemon's own words.

use super::grammar::{DigestError, NAME_TOTAL_LENGTH_MAX};

/// A string that is not a valid image reference (or `DELETE /images/{name}` argument).
///
/// `Display` says what is wrong in terms a user can act on; [`ReferenceError::daemon_message`]
/// gives the exact text dockerd 20.10 answers with status 400, so a plan can predict it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Empty, or only white space.
    #[error("image name cannot be blank")]
    Blank,
    /// Upper case in the repository path (a registry host may have upper case).
    #[error("repository name must be lowercase: {input:?}")]
    Uppercase { input: String },
    /// The full normalised name (domain and path, without the tag) is over 255 characters.
    #[error(
        "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters: {input:?} is {length} characters as {name:?}"
    )]
    NameTooLong {
        input: String,
        name: String,
        length: usize,
    },
    /// The text does not follow the reference grammar; `problem` says which part is wrong.
    #[error("invalid reference format: {problem}: {input:?}")]
    InvalidFormat { input: String, problem: String },
    /// The digest has the reference grammar's shape but is not a valid digest.
    #[error("invalid digest in {input:?}: {problem}")]
    InvalidDigest { input: String, problem: DigestError },
    /// 64 hex digits cannot be a repository name: the daemon reads them as an image ID.
    #[error("{input:?} is 64 hexadecimal digits, which names an image ID, not a repository")]
    HexadecimalName { input: String },
}

impl ReferenceError {
    /// The message dockerd 20.10 answers with (status 400) for this argument to
    /// `DELETE /images/{name}` or `GET /images/{name}/json`.
    pub fn daemon_message(&self) -> String {
        match self {
            ReferenceError::Blank => "image name cannot be blank".to_owned(),
            ReferenceError::Uppercase { .. } => {
                "invalid reference format: repository name must be lowercase".to_owned()
            }
            ReferenceError::NameTooLong { .. } => {
                format!("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
            }
            ReferenceError::InvalidFormat { .. } => "invalid reference format".to_owned(),
            ReferenceError::InvalidDigest { problem, .. } => problem.daemon_message().to_owned(),
            ReferenceError::HexadecimalName { input } => format!(
                "invalid repository name ({input}), cannot specify 64-byte hexadecimal strings"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uppercase_error_names_the_input_and_keeps_the_daemon_wording() {
        let error = ReferenceError::Uppercase {
            input: "foo/Bar".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            r#"repository name must be lowercase: "foo/Bar""#
        );
        assert_eq!(
            error.daemon_message(),
            "invalid reference format: repository name must be lowercase"
        );
    }

    #[test]
    fn blank_error_reads_the_same_for_people_and_the_daemon() {
        assert_eq!(
            ReferenceError::Blank.to_string(),
            "image name cannot be blank"
        );
        assert_eq!(
            ReferenceError::Blank.daemon_message(),
            "image name cannot be blank"
        );
    }
}
