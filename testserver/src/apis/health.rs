//! `/healthz`, `/livez`, `/readyz` with upstream's output: `ok`, or with `?verbose` one
//! `[+]<check> ok` line per check; `?exclude=<check>`; single checks at
//! `/<endpoint>/<check>`; 500 with `[-]<check> failed: reason withheld` on failure.

use std::sync::Arc;

use crate::apiserver::ApiServer;
use crate::handlers::respond::{self, Response};

fn checks(endpoint: &str) -> &'static [&'static str] {
    match endpoint {
        "readyz" => &[
            "ping",
            "log",
            "etcd",
            "etcd-readiness",
            "informer-sync",
            "shutdown",
        ],
        _ => &["ping", "log", "etcd"],
    }
}

async fn run_check(server: &ApiServer, name: &str) -> bool {
    match name {
        "etcd" | "etcd-readiness" => server.storage.current_revision().await.is_ok(),
        "shutdown" => !server.shutdown.is_cancelled(),
        _ => true,
    }
}

fn text(code: u16, body: String) -> Response {
    let mut resp = respond::bytes(code, "text/plain; charset=utf-8", body);
    resp.headers_mut().insert(
        "x-content-type-options",
        http::HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Serves `/{endpoint}` (`check` empty) or `/{endpoint}/{check}`.
pub(crate) async fn serve(
    server: &Arc<ApiServer>,
    endpoint: &str,
    check: &str,
    query: &str,
) -> Response {
    let all = checks(endpoint);
    if !check.is_empty() {
        if !all.contains(&check) {
            return respond::not_found();
        }
        return if run_check(server, check).await {
            text(200, "ok".to_owned())
        } else {
            text(
                500,
                format!("internal server error: {check} check failed\n"),
            )
        };
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let verbose = params.iter().any(|(k, _)| k == "verbose");
    let excluded: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "exclude")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut lines = Vec::new();
    let mut failed = false;
    for name in all {
        if excluded.contains(name) {
            lines.push(format!("[+]{name} excluded: ok"));
            continue;
        }
        if run_check(server, name).await {
            lines.push(format!("[+]{name} ok"));
        } else {
            failed = true;
            lines.push(format!("[-]{name} failed: reason withheld"));
        }
    }
    let unknown: Vec<&str> = excluded
        .iter()
        .copied()
        .filter(|e| !all.contains(e))
        .collect();
    if !unknown.is_empty() {
        lines.push(format!(
            "warn: some health checks cannot be excluded: no matches for {}",
            unknown
                .iter()
                .map(|u| format!("\"{u}\""))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if failed {
        lines.push(format!("{endpoint} check failed"));
        return text(500, lines.join("\n") + "\n");
    }
    if verbose {
        lines.push(format!("{endpoint} check passed"));
        return text(200, lines.join("\n") + "\n");
    }
    text(200, "ok".to_owned())
}
