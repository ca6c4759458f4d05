//! Moving replica ownership between a resource and its `/scale` subresource
//! (apimachinery's `managedfields/scalehandler.go`).
//!
//! A write to `/scale` works on an `autoscaling/v1` `Scale`, whose only owned field is
//! `.spec.replicas`. Before it, [`scale_to_subresource`] turns the parent's entries
//! into the `Scale`'s (managers owning the parent's replicas path own the scale's);
//! after it, [`scale_to_parent`] merges the `Scale`'s entries back, moving the
//! replicas path to whoever owns it now.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ApplyError;
use super::managed::{self, Managed};
use super::path::Path;
use super::set::FieldSet;
use super::updater::VersionedSet;

/// The `Scale` version and its replicas field.
const SCALE_VERSION: &str = "autoscaling/v1";

fn replicas_in_scale() -> Path {
    Path::fields(&["spec", "replicas"])
}

/// Where a resource keeps its replica count, per API version of its managers
/// (`("apps/v1", Some(.spec.replicas))`; `None` for a custom resource without a scale
/// subresource). Entries of versions not listed are dropped, as upstream drops them.
pub(crate) type ReplicasPaths<'a> = &'a [(&'a str, Option<&'a Path>)];

fn lookup<'a>(mappings: ReplicasPaths<'a>, version: &str) -> Option<Option<&'a Path>> {
    mappings
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, p)| *p)
}

fn decode(list: Option<&Value>) -> Result<Managed, ApplyError> {
    managed::decode(list).map_err(ApplyError::Invalid)
}

/// The `Scale`'s `managedFields` from the parent's (`ToSubresource`): every manager
/// that owns the parent's replicas path owns the scale's `.spec.replicas`.
///
/// # Errors
///
/// [`ApplyError::Invalid`] when the parent's entries do not decode.
pub(crate) fn scale_to_subresource(
    parent: Option<&Value>,
    mappings: ReplicasPaths<'_>,
) -> Result<Option<Value>, ApplyError> {
    let parent = decode(parent)?;
    let mut out = Managed::default();
    for (id, vs) in &parent.fields {
        let Some(Some(path)) = lookup(mappings, &vs.api_version) else {
            continue;
        };
        if vs.set.has(&path.0) {
            out.fields.insert(
                id.clone(),
                VersionedSet {
                    set: FieldSet::from_paths([&replicas_in_scale()]),
                    api_version: SCALE_VERSION.to_owned(),
                    applied: vs.applied,
                },
            );
            out.times
                .insert(id.clone(), parent.times.get(id).copied().flatten());
        }
    }
    Ok(managed::encode(&out))
}

/// The parent's `managedFields` after a `/scale` write (`ToParent`): parent entries
/// whose manager no longer owns the scale's replicas lose the replicas path; the
/// scale's new owners get it, recorded in `group_version`, the parent's version.
///
/// # Errors
///
/// [`ApplyError::Invalid`] when either list does not decode.
pub(crate) fn scale_to_parent(
    parent: Option<&Value>,
    scale: Option<&Value>,
    group_version: &str,
    mappings: ReplicasPaths<'_>,
) -> Result<Option<Value>, ApplyError> {
    let parent = decode(parent)?;
    let mut scale_fields: BTreeMap<String, VersionedSet> = decode(scale)?.fields;
    let mut out = Managed::default();
    let parent_time = |id: &str| parent.times.get(id).copied().flatten();
    for (id, vs) in &parent.fields {
        let Some(path) = lookup(mappings, &vs.api_version) else {
            continue;
        };
        let Some(path) = path.filter(|p| vs.set.has(&p.0)) else {
            out.fields.insert(id.clone(), vs.clone());
            out.times.insert(id.clone(), parent_time(id));
            continue;
        };
        if scale_fields.remove(id).is_some() {
            out.fields.insert(id.clone(), vs.clone());
            out.times.insert(id.clone(), parent_time(id));
        } else {
            let set = vs.set.difference(&FieldSet::from_paths([path]));
            if !set.is_empty() {
                out.fields
                    .insert(id.clone(), VersionedSet { set, ..vs.clone() });
                out.times.insert(id.clone(), parent_time(id));
            }
        }
    }
    let parent_path = lookup(mappings, group_version).flatten();
    for (id, vs) in scale_fields {
        if !vs.set.has(&replicas_in_scale().0) {
            continue;
        }
        let set = parent_path
            .map(|p| FieldSet::from_paths([p]))
            .unwrap_or_default();
        // Upstream takes the time from the parent's entries, which a new owner lacks.
        out.times.insert(id.clone(), parent_time(&id));
        out.fields.insert(
            id,
            VersionedSet {
                set,
                api_version: group_version.to_owned(),
                applied: vs.applied,
            },
        );
    }
    Ok(managed::encode(&out))
}
