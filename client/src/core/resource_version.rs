//! resourceVersion rules: how a resourceVersion string maps to a storage revision,
//! and `resourceVersionMatch`.

use std::fmt;

/// How a list interprets `resourceVersion` (`?resourceVersionMatch=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceVersionMatch {
    /// Exactly at the given resourceVersion.
    Exact,
    /// At the given resourceVersion or newer.
    NotOlderThan,
    /// A value the API does not define (rejected by server validation).
    Other(String),
}

impl ResourceVersionMatch {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Exact => "Exact",
            Self::NotOlderThan => "NotOlderThan",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for ResourceVersionMatch {
    fn from(s: &str) -> Self {
        match s {
            "Exact" => Self::Exact,
            "NotOlderThan" => Self::NotOlderThan,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ResourceVersionMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a resourceVersion into a revision. `""` and `"0"` both read as 0 ("any"
/// for reads that accept it); anything else must be a decimal unsigned integer.
///
/// resourceVersions are opaque to clients; this is the server's reading of its own.
///
/// # Errors
///
/// The parse error's text, for a 400 `invalid resource version` answer.
pub fn parse_resource_version(rv: &str) -> Result<u64, String> {
    if rv.is_empty() {
        return Ok(0);
    }
    rv.parse::<u64>()
        .map_err(|e| format!("resourceVersion: Invalid value: {rv:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_versions_parse_as_revisions() {
        assert_eq!(parse_resource_version(""), Ok(0));
        assert_eq!(parse_resource_version("0"), Ok(0));
        assert_eq!(parse_resource_version("42"), Ok(42));
        assert!(parse_resource_version("-1").is_err());
        assert!(parse_resource_version("abc").is_err());
    }
}
