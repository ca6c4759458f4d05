//! Content negotiation: which representation a client asked for (`Accept`), and what
//! a request body is (`Content-Type`).
//!
//! Served representations: JSON (`application/json`, the default), YAML
//! (`application/yaml`), `meta.k8s.io` Tables (what `kubectl get` asks for) and
//! `PartialObjectMetadata` (metadata-only clients). Protobuf is not served: a client
//! that accepts only protobuf gets 406, one that also accepts JSON gets JSON.

use kubeforge_client::core::Status;

use crate::apiserver::{ApiError, ApiResult};

/// The representation of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Json,
    Yaml,
    /// A `meta.k8s.io` Table of the given version (`v1` or `v1beta1`).
    Table(&'static str),
    /// `PartialObjectMetadata`(List) of the given version.
    Metadata(&'static str),
}

/// What a request accepts beyond plain JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepts {
    pub(crate) table: bool,
    pub(crate) metadata: bool,
}

/// Media types offered in a 406.
const OFFERED: &[&str] = &["application/json", "application/yaml"];

struct MediaRange<'a> {
    essence: String,
    params: Vec<(String, &'a str)>,
}

impl MediaRange<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

fn parse_ranges(header: &str) -> Vec<MediaRange<'_>> {
    let mut out: Vec<(f32, MediaRange<'_>)> = Vec::new();
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let essence = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        let mut params = Vec::new();
        for p in pieces {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().trim_matches('"');
            if k == "q" {
                q = v.parse().unwrap_or(1.0);
            } else {
                params.push((k, v));
            }
        }
        if q > 0.0 {
            out.push((q, MediaRange { essence, params }));
        }
    }
    // Stable: equal weights keep the client's order.
    out.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    out.into_iter().map(|(_, r)| r).collect()
}

fn meta_version(v: Option<&str>) -> Option<&'static str> {
    match v {
        Some("v1") => Some("v1"),
        Some("v1beta1") => Some("v1beta1"),
        _ => None,
    }
}

/// Picks the response representation for an `Accept` header.
///
/// # Errors
///
/// 406 NotAcceptable when nothing offered is acceptable.
pub(crate) fn negotiate(accept: Option<&str>, accepts: Accepts) -> ApiResult<Output> {
    let Some(header) = accept.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Output::Json);
    };
    for range in parse_ranges(header) {
        let json_like = matches!(
            range.essence.as_str(),
            "application/json" | "application/*" | "*/*"
        );
        match range.param("as") {
            Some("Table") if json_like => {
                if accepts.table
                    && range.param("g") == Some("meta.k8s.io")
                    && let Some(v) = meta_version(range.param("v"))
                {
                    return Ok(Output::Table(v));
                }
            }
            Some("PartialObjectMetadata" | "PartialObjectMetadataList") if json_like => {
                if accepts.metadata
                    && range.param("g") == Some("meta.k8s.io")
                    && let Some(v) = meta_version(range.param("v"))
                {
                    return Ok(Output::Metadata(v));
                }
            }
            Some(_) => {}
            None if json_like => return Ok(Output::Json),
            None if matches!(range.essence.as_str(), "application/yaml" | "text/yaml") => {
                return Ok(Output::Yaml);
            }
            None => {}
        }
    }
    Err(ApiError::from(Status::not_acceptable(OFFERED)))
}

/// The format of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Yaml,
    /// Kubernetes protobuf (what kubectl's typed commands send).
    Protobuf,
}

/// The format of a create/update body from its `Content-Type`.
///
/// # Errors
///
/// 415 for anything but JSON or YAML.
pub(crate) fn body_format(content_type: Option<&str>) -> ApiResult<BodyFormat> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        // Upstream refuses a body without a content type; curl-style clients send none
        // and we accept JSON then.
        "" | "application/json" => Ok(BodyFormat::Json),
        "application/yaml" | "text/yaml" => Ok(BodyFormat::Yaml),
        crate::protobuf::MEDIA_TYPE => Ok(BodyFormat::Protobuf),
        other => Err(Status::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                crate::protobuf::MEDIA_TYPE,
            ],
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Accepts = Accepts {
        table: true,
        metadata: true,
    };

    #[test]
    fn picks_what_kubectl_asks_for() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(
            negotiate(Some(kubectl), ALL).expect("ok"),
            Output::Table("v1")
        );
        // without table support the JSON fallback wins
        let no_table = Accepts {
            table: false,
            metadata: false,
        };
        assert_eq!(
            negotiate(Some(kubectl), no_table).expect("ok"),
            Output::Json
        );
        assert_eq!(negotiate(None, ALL).expect("ok"), Output::Json);
        assert_eq!(
            negotiate(Some("application/json, */*"), ALL).expect("ok"),
            Output::Json
        );
        assert_eq!(
            negotiate(Some("application/yaml"), ALL).expect("ok"),
            Output::Yaml
        );
        assert_eq!(
            negotiate(
                Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
                ALL
            )
            .expect("ok"),
            Output::Metadata("v1")
        );
    }

    #[test]
    fn refuses_what_it_cannot_produce() {
        let e = negotiate(Some("application/vnd.kubernetes.protobuf"), ALL).expect_err("406");
        assert_eq!(e.0.code, 406);
        let table_only = "application/json;as=Table;v=v1;g=meta.k8s.io";
        let e = negotiate(
            Some(table_only),
            Accepts {
                table: false,
                metadata: false,
            },
        )
        .expect_err("406");
        assert_eq!(e.0.code, 406);
        assert_eq!(
            body_format(Some("application/vnd.kubernetes.protobuf")).expect("ok"),
            BodyFormat::Protobuf
        );
        assert!(body_format(Some("application/cbor")).is_err());
        assert_eq!(
            body_format(Some("application/json; charset=utf-8")).expect("ok"),
            BodyFormat::Json
        );
    }
}
