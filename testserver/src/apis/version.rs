//! `/version`: which Kubernetes version the server speaks. kubectl's version dispatcher
//! picks the kubectl matching `minor`, so this decides which kubectl talks to us.

use serde_json::{Value, json};

/// The Kubernetes version whose API the server implements.
pub(crate) const MAJOR: &str = "1";
pub(crate) const MINOR: &str = "33";
pub(crate) const GIT_VERSION: &str = concat!("v1.33.0+kubeforge-", env!("CARGO_PKG_VERSION"));

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

/// The `version.Info` document.
pub(crate) fn info() -> Value {
    json!({
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR,
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "unknown",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a (kubeforge is written in Rust)",
        "compiler": "rustc",
        "platform": platform(),
    })
}
