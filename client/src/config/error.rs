//! [`ConfigError`]: why a configuration could not be loaded or credentials resolved.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Why a client configuration could not be loaded, or its credentials resolved.
///
/// Each variant names the file, kubeconfig entry or field at fault; the underlying
/// cause (an I/O error, a YAML error, a plugin's failure) is the [`source`]. Reaches
/// callers of request methods as [`core::Error::Config`](crate::core::Error::Config).
///
/// [`source`]: std::error::Error::source
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("failed to read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig is not YAML of the kubeconfig shape.
    #[error("failed to parse kubeconfig{}", DisplayPath(.path))]
    Parse {
        /// The file, when the kubeconfig came from one.
        path: Option<PathBuf>,
        /// The YAML error (with line and column).
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// A kubeconfig could not be written as YAML.
    #[error("failed to write kubeconfig as YAML")]
    Serialize(#[source] Box<serde_saphyr::SerializeError>),
    /// No kubeconfig file exists: `KUBECONFIG` is unset or names no existing file,
    /// and `~/.kube/config` does not exist.
    #[error("no kubeconfig file found ({searched})")]
    NoKubeconfig {
        /// Where we looked, for the message.
        searched: String,
    },
    /// Neither a kubeconfig nor an in-cluster environment was found
    /// ([`Config::infer`](super::Config::infer)); the source says why in-cluster
    /// configuration failed.
    #[error("found neither a kubeconfig nor an in-cluster environment")]
    NoConfig(#[source] Box<ConfigError>),
    /// No context was chosen and the kubeconfig has no `current-context`.
    #[error("no context chosen and the kubeconfig has no current-context")]
    NoCurrentContext,
    /// A named context, cluster or user is not in the kubeconfig.
    #[error("{what} {name:?} not found in the kubeconfig")]
    NotFound {
        /// `"context"`, `"cluster"` or `"user"`.
        what: &'static str,
        /// The name looked for.
        name: String,
    },
    /// A field of a kubeconfig entry holds a value that cannot be used.
    #[error("invalid {field} in {entry}")]
    InvalidField {
        /// The entry, such as `cluster "prod"` or `user "alice"`.
        entry: String,
        /// The field's kubeconfig name, such as `certificate-authority-data`.
        field: &'static str,
        /// Why the value is unusable.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A kubeconfig entry combines fields that cannot go together, or asks for
    /// something kubeforge does not support.
    #[error("{entry}: {message}")]
    Unusable {
        /// The entry, such as `cluster "prod"` or `user "alice"`.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The in-cluster environment is incomplete.
    #[error("not running in a cluster: {0}")]
    InCluster(String),
    /// A token file held no token.
    #[error("token file {} is empty", .0.display())]
    EmptyTokenFile(PathBuf),
    /// An exec credential plugin failed.
    #[error("exec credential plugin {command:?} failed")]
    Exec {
        /// The plugin's command.
        command: String,
        /// How it failed.
        #[source]
        source: ExecError,
    },
}

/// How an exec credential plugin failed; the source of [`ConfigError::Exec`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The executable does not exist; the kubeconfig's `installHint` follows.
    #[error("executable not found{}", DisplayHint(.install_hint))]
    NotFound {
        /// The kubeconfig's `installHint`.
        install_hint: Option<String>,
    },
    /// The process could not be started or its output not read.
    #[error("failed to run the process")]
    Io(#[source] std::io::Error),
    /// The process exited unsuccessfully (what it wrote to stderr follows).
    #[error("exited with {status}{}", DisplayStderr(.stderr))]
    Exit {
        /// Its exit status.
        status: ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The process did not finish in time and was killed.
    #[error("did not finish within {0:?}")]
    Timeout(Duration),
    /// The kubeconfig asks for interactive mode but standard input is not a terminal.
    #[error("interactiveMode is Always but standard input is not a terminal")]
    NotInteractive,
    /// The process printed something that is not an `ExecCredential`.
    #[error("printed an invalid ExecCredential: {0}")]
    Output(String),
}

impl From<ConfigError> for crate::core::Error {
    fn from(e: ConfigError) -> Self {
        crate::core::Error::Config(Box::new(e))
    }
}

struct DisplayPath<'a>(&'a Option<PathBuf>);

impl fmt::Display for DisplayPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " {}", p.display()),
            None => Ok(()),
        }
    }
}

struct DisplayHint<'a>(&'a Option<String>);

impl fmt::Display for DisplayHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(h) if !h.trim().is_empty() => write!(f, "\n\n{}", h.trim_end()),
            _ => Ok(()),
        }
    }
}

struct DisplayStderr<'a>(&'a str);

impl fmt::Display for DisplayStderr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0)
        }
    }
}
