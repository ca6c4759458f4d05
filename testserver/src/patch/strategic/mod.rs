//! Strategic merge patch (`application/strategic-merge-patch+json`), applied the way
//! kube-apiserver applies it to built-in types.
//!
//! A strategic merge patch is a JSON merge patch (RFC 7386) that knows, from the schema,
//! how each list merges:
//!
//! - objects merge key by key; `null` deletes a key;
//! - a list whose field says `patchStrategy: merge` with a `patchMergeKey` merges item by
//!   item: an item whose key is already there merges into it, others join the list;
//! - `merge` without a merge key on a list of scalars is a set union;
//! - every other list (and a field with `patchStrategy: replace`) is replaced whole.
//!
//! Directives steer the rest:
//!
//! | directive | where | effect |
//! | --- | --- | --- |
//! | `$patch: replace` | in an object | the object becomes the patch object |
//! | `$patch: replace` | an item of a merge list | the list becomes the patch's other items |
//! | `$patch: delete` | in an object | the object becomes `{}` |
//! | `$patch: delete` | an item of a merge list, with its key | every item with that key goes |
//! | `$deleteFromPrimitiveList/<f>: [..]` | beside list `f` | those values leave `f` |
//! | `$setElementOrder/<f>: [..]` | beside list `f` | the items named come in that order |
//! | `$retainKeys: [..]` | in an object | keys not listed are cleared from the original |
//!
//! `$patch: merge` exists only as a struct tag upstream; in a patch it is an error, as it
//! is upstream.
//!
//! # Order of merged lists
//!
//! Upstream keeps three relative orders, in this precedence: `$setElementOrder`, the
//! patch list, the live list. Items the patch (or `$setElementOrder`) names come in the
//! patch's order, items only the server has in the live order, and the two are
//! interleaved greedily: the next server-only item goes first only when the live list
//! had it before the next patch item. A patch item the live list lacks therefore goes
//! ahead of the server-only items still waiting — adding container `b` to `[a]` by
//! `kubectl patch` gives `[b, a]`, as kube-apiserver does — while `kubectl apply`'s
//! `$setElementOrder` puts it where the configuration has it.
//!
//! An empty patch list (`containers: []`) merges nothing into a merge list: it does not
//! clear it, upstream or here.
//!
//! A patch value for a key the original lacks is taken whole, minus null members and
//! minus every object holding `$patch` — so `{"nodeSelector": {"$patch": "replace", ..}}`
//! adds nothing when the object has no `nodeSelector`, as upstream.
//!
//! # What the result holds
//!
//! The result is what upstream's merge hands to its decoder, not a cleaned object: where
//! upstream copies patch content verbatim (a `$patch: replace` object, a field with
//! `patchStrategy: replace`, a replaced list, a new item of a merge list) nulls and
//! leftover `$…` keys stay. The caller decodes it as kube-apiserver does: a null is the
//! zero value, and an unknown key such as `$patch` or `$foo` is an unknown field — an
//! error under `fieldValidation=Strict`, a warning under `Warn`, dropped under `Ignore`.
//! Unknown `$` keys are not errors here for the same reason: upstream's merge keeps them
//! and its decoder judges them.
//!
//! # Where we differ from kube-apiserver
//!
//! - Upstream walks patch keys in Go's random map order. We merge plain keys first and
//!   `$deleteFromPrimitiveList` lists after them, so a value both added and deleted ends
//!   deleted, every time.
//! - Upstream cannot merge two objects inside untyped JSON (`RawExtension`), inside an
//!   unknown field, or inside a map of objects: it fails with "unable to find api
//!   field". We merge them as JSON merge patch does (objects key by key, lists and scalars
//!   replaced, map-level `$patch`/`$retainKeys` still honoured).
//! - Where upstream panics (a 500) — a null first item in a merged list, `$setElementOrder`
//!   on a list of objects without a merge key, objects inside `$retainKeys` — we return an
//!   error.
//! - Upstream's scalar de-duplication can reorder a live set that already held duplicates;
//!   we keep each value's first position.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::schema::{Cursor, Kind, Member, PatchStrategy};

mod error;
mod list;
#[cfg(test)]
mod tests;

pub(crate) use error::StrategicPatchError;
use error::{GoType, json_kind};

type Object = Map<String, Value>;
type Error = StrategicPatchError;

/// The directive key inside an object or a list item.
const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// The deepest nesting merged. JSON bodies parsed by serde_json stop at 128 levels, so
/// this only guards values built some other way from exhausting the stack.
const MAX_DEPTH: usize = 256;

/// Applies a strategic merge patch to `original` (a JSON object) of the type at `schema`.
///
/// `null` as the patch changes nothing (upstream decodes it as an empty patch).
///
/// # Errors
///
/// A patch that is not an object, a malformed or misplaced directive, a merge-list item
/// without its merge key, list items of mixed types: see [`StrategicPatchError`] and its
/// [`status_code`](StrategicPatchError::status_code).
pub(crate) fn apply(
    schema: Cursor<'_>,
    original: &Value,
    patch: &Value,
) -> Result<Value, StrategicPatchError> {
    let Value::Object(original) = original else {
        return Err(Error::OriginalNotAnObject);
    };
    let patch = match patch {
        Value::Object(patch) => patch,
        Value::Null => return Ok(Value::Object(original.clone())),
        other => {
            return Err(Error::PatchNotAnObject {
                found: json_kind(other),
            });
        }
    };
    check_depth(original)?;
    check_depth(patch)?;
    merge_object(original.clone(), patch.clone(), Some(schema)).map(Value::Object)
}

/// Where the merge stands in the schema: a type, or `None` inside untyped JSON and
/// unknown fields, where nothing carries patch metadata.
type At<'a> = Option<Cursor<'a>>;

/// What the schema says about one member of an object.
#[derive(Debug, Clone, Copy, Default)]
struct MemberInfo<'a> {
    /// The member's type; `None` when untyped or unknown.
    ty: At<'a>,
    strategy: Option<PatchStrategy>,
    merge_key: Option<&'a str>,
    /// Not a field of the struct that holds it (and the struct keeps no unknown fields).
    unknown: bool,
}

fn member<'a>(at: At<'a>, key: &str) -> MemberInfo<'a> {
    let Some(cursor) = at else {
        return MemberInfo::default();
    };
    match cursor.member(key) {
        Member::Field(def, ty) => MemberInfo {
            ty: Some(ty),
            strategy: def.patch_strategy,
            merge_key: def.merge_key.as_deref(),
            unknown: false,
        },
        Member::Value(ty) => MemberInfo {
            ty: Some(ty),
            ..MemberInfo::default()
        },
        Member::Untyped => MemberInfo::default(),
        Member::Unknown => MemberInfo {
            unknown: matches!(cursor.kind(), Kind::Struct { .. }),
            ..MemberInfo::default()
        },
    }
}

/// How a list member merges.
#[derive(Debug, Clone, Copy, Default)]
struct ListInfo<'a> {
    /// The item type; `None` when untyped.
    items: At<'a>,
    /// `patchStrategy` is `merge` (or `merge,retainKeys`).
    merge: bool,
    merge_key: Option<&'a str>,
}

/// The list facts of member `key` of an object at `at`. `named` is set when a directive
/// names the member (`$setElementOrder/<key>`): then, as upstream, a field the struct
/// lacks is an error rather than untyped content.
fn list_member<'a>(at: At<'a>, key: &str, named: bool) -> Result<ListInfo<'a>, Error> {
    let info = member(at, key);
    if info.unknown && named {
        return Err(Error::UnknownField {
            ty: go_struct_name(at),
            field: key.to_owned(),
        });
    }
    let Some(ty) = info.ty else {
        return Ok(ListInfo::default());
    };
    match ty.kind() {
        Kind::List { .. } => Ok(ListInfo {
            items: ty.items(),
            merge: matches!(
                info.strategy,
                Some(PatchStrategy::Merge | PatchStrategy::MergeRetainKeys)
            ),
            merge_key: info.merge_key,
        }),
        Kind::Untyped => Ok(ListInfo::default()),
        _ => Err(Error::NotAList { kind: go_kind(at) }),
    }
}

/// The Go name upstream prints for the struct at `at` (`PodSpec` for
/// `io.k8s.api.core.v1.PodSpec`).
fn go_struct_name(at: At<'_>) -> String {
    at.map(|c| {
        c.def()
            .name
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned()
    })
    .unwrap_or_default()
}

/// The Go kind upstream prints for a value of the type at `at`.
fn go_kind(at: At<'_>) -> &'static str {
    match at.map(|c| c.kind()) {
        Some(Kind::Struct { .. }) => "struct",
        Some(Kind::Map { .. }) => "map",
        Some(Kind::List { .. }) => "slice",
        Some(Kind::Scalar { .. } | Kind::IntOrString | Kind::Untyped) | None => "interface",
    }
}

/// Merges `patch` into `original`, both objects of the type at `at` (upstream `mergeMap`).
fn merge_object(mut original: Object, mut patch: Object, at: At<'_>) -> Result<Object, Error> {
    if patch.contains_key(DIRECTIVE) {
        return object_directive(patch);
    }
    retain_keys(&mut original, &mut patch)?;
    list::set_element_orders(&mut original, &mut patch, at)?;

    let mut deletions = Vec::new();
    for (key, value) in patch {
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            deletions.push((key, value));
        } else {
            merge_member(&mut original, key, value, at, false)?;
        }
    }
    for (key, value) in deletions {
        let field = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST)
            .ok_or(Error::InvalidPrimitiveListFormat)?;
        merge_member(&mut original, field.to_owned(), value, at, true)?;
    }
    Ok(original)
}

/// `$patch` inside an object: `replace` takes the patch object as it is, `delete` empties
/// the object. Upstream knows no other value here, `merge` included.
fn object_directive(mut patch: Object) -> Result<Object, Error> {
    match patch.get(DIRECTIVE).and_then(Value::as_str) {
        Some("replace") => {
            patch.remove(DIRECTIVE);
            Ok(patch)
        }
        Some("delete") => Ok(Object::new()),
        _ => Err(Error::unknown_patch_type(
            patch.get(DIRECTIVE).unwrap_or(&Value::Null),
            &patch,
        )),
    }
}

/// `$retainKeys`: clears every key of `original` the list does not name. Every key the
/// patch sets (to non-null) must be named; directive lists beside it need not be.
fn retain_keys(original: &mut Object, patch: &mut Object) -> Result<(), Error> {
    let Some(list) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(list) = list else {
        return Err(Error::InvalidRetainKeysFormat);
    };
    let mut keep = HashSet::new();
    for key in &list {
        match key {
            Value::String(key) => {
                keep.insert(key.as_str());
            }
            // Upstream panics hashing these.
            Value::Object(_) | Value::Array(_) => return Err(Error::InvalidRetainKeysFormat),
            // Other scalars match no key.
            _ => {}
        }
    }
    let unlisted = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !keep.contains(key.as_str())
    });
    if unlisted {
        return Err(Error::InvalidRetainKeysFormat);
    }
    original.retain(|key, _| keep.contains(key.as_str()));
    Ok(())
}

/// The field a `<prefix>/<field>` directive key names; `None` when the key is not of
/// that form.
fn directive_target<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let (head, field) = key.split_once('/')?;
    (head == prefix).then_some(field)
}

/// Merges one patch member into `original` (the body of upstream's `mergeMap` loop).
/// `deletion` marks a `$deleteFromPrimitiveList` list, already renamed to its field.
fn merge_member(
    original: &mut Object,
    key: String,
    value: Value,
    at: At<'_>,
    deletion: bool,
) -> Result<(), Error> {
    if value.is_null() {
        original.remove(&key);
        return Ok(());
    }
    let Some(current) = original.get_mut(&key) else {
        // Not in the original: take the patch value, minus nulls and directive objects.
        if !deletion && let Some(value) = without_directives(value, true) {
            original.insert(key, value);
        }
        return Ok(());
    };
    if GoType::of(current) != GoType::of(&value) {
        // A change of type replaces the value (a deletion list leaves it alone).
        if !deletion {
            match without_directives(value, true) {
                Some(value) => *current = value,
                None => {
                    original.remove(&key);
                }
            }
        }
        return Ok(());
    }
    match (current, value) {
        (Value::Object(current), Value::Object(patch)) => {
            let info = member(at, &key);
            if info.strategy == Some(PatchStrategy::Replace) {
                *current = patch;
            } else {
                let taken = std::mem::take(current);
                *current = merge_object(taken, patch, info.ty)?;
            }
        }
        (Value::Array(current), Value::Array(patch)) => {
            let info = list_member(at, &key, false)?;
            if info.merge || deletion {
                let taken = std::mem::take(current);
                *current = list::merge_list(taken, patch, &info, deletion)?;
            } else {
                *current = patch;
            }
        }
        // Scalars of the same type.
        (current, value) => *current = value,
    }
    Ok(())
}

/// A patch value taken whole: objects holding `$patch` are dropped (the value itself
/// too, giving `None`), and with `drop_nulls` so are null members of objects (not null
/// list items) — upstream's `discardNullValuesFromPatch` then `removeDirectives`.
fn without_directives(value: Value, drop_nulls: bool) -> Option<Value> {
    match value {
        Value::Object(map) => {
            // A null `$patch` is discarded as a null before directives are looked for.
            if map
                .get(DIRECTIVE)
                .is_some_and(|d| !(drop_nulls && d.is_null()))
            {
                return None;
            }
            let map = map
                .into_iter()
                .filter(|(_, v)| !(drop_nulls && v.is_null()))
                .filter_map(|(k, v)| without_directives(v, drop_nulls).map(|v| (k, v)))
                .collect();
            Some(Value::Object(map))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .into_iter()
                .filter_map(|v| without_directives(v, drop_nulls))
                .collect(),
        )),
        scalar => Some(scalar),
    }
}

/// Rejects values nested deeper than [`MAX_DEPTH`], without recursing.
fn check_depth(root: &Object) -> Result<(), Error> {
    let mut stack: Vec<(&Value, usize)> = root.values().map(|v| (v, 2)).collect();
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep { limit: MAX_DEPTH });
        }
        match value {
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}
