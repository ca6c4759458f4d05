//! The `fieldsV1` a create records, written in one walk over the new object.
//!
//! A create that sends no managed fields makes its writer the owner of every field of
//! the object, less what nobody owns (the strip set: `apiVersion`, `metadata.name`, …)
//! and what the strategy resets. The general algorithm reaches that trie by comparing
//! the object with `{apiVersion, kind}`, collecting the added paths in a [`FieldSet`],
//! filtering, stripping and encoding it; every node of the object costs a path, a set
//! insertion and a key. This walk writes the trie directly instead: one key per
//! node. `tests/fast_paths.rs` checks that both give the same entries.

use serde_json::{Map, Value};

use super::path::PathElement;
use super::set::FieldSet;
use super::typed::{Atom, ListKind, Ty, is_valid, list_item_element};

/// The `fieldsV1` trie of a create of `obj`, with the paths of `reset` (and all below
/// their members) left out, and `strip`'s members not owned themselves.
///
/// `None` when `obj` does not fit the schema ([`is_valid_object`](super::typed::is_valid_object)
/// is checked on the way: the general way words the error), or when this walk would not
/// match the general algorithm: a root that is not a map, or an `apiVersion` or `kind`
/// that is a list or an object (compared with the strings the general algorithm starts
/// from, their parts would be recorded).
pub(crate) fn fields_v1(
    ty: Ty<'_>,
    obj: &Map<String, Value>,
    reset: Option<&FieldSet>,
    strip: &FieldSet,
) -> Option<Map<String, Value>> {
    let Atom::Map { ty, atomic: false } = ty.object_atom() else {
        return None;
    };
    let compound = |key| matches!(obj.get(key), Some(Value::Array(_) | Value::Object(_)));
    if compound("apiVersion") || compound("kind") {
        return None;
    }
    let mut out = Map::new();
    members_into(ty, obj, reset, Some(strip), &mut out).ok()?;
    Some(out)
}

/// The object does not fit the schema.
struct Unfit;

/// The value of the entry of a node the create adds (with all below it), or `None`
/// when none of it is recorded. `owned`: whether the node itself is (not stripped).
fn node(
    ty: Ty<'_>,
    v: &Value,
    owned: bool,
    reset: Option<&FieldSet>,
    strip: Option<&FieldSet>,
) -> Result<Option<Value>, Unfit> {
    let mut below = Map::new();
    match (ty.atom(Some(v)), v) {
        (Atom::List { items, kind }, Value::Array(list)) if !matches!(kind, ListKind::Atomic) => {
            items_into(items, kind, list, reset, strip, &mut below)?;
        }
        (Atom::Map { ty, atomic: false }, Value::Object(map)) => {
            members_into(ty, map, reset, strip, &mut below)?;
        }
        // A leaf: a scalar, an atomic value, null, or a value of the wrong shape.
        _ => valid(ty, v)?,
    }
    // A leaf, an empty value, or a node whose parts were all left out: owned itself
    // (`{}`) or not recorded at all.
    if below.is_empty() {
        return Ok(owned.then(|| Value::Object(Map::new())));
    }
    if owned {
        below.insert(".".to_owned(), Value::Object(Map::new()));
    }
    Ok(Some(Value::Object(below)))
}

/// Checks a value the walk does not enter.
fn valid(ty: Ty<'_>, v: &Value) -> Result<(), Unfit> {
    if is_valid(ty, v) { Ok(()) } else { Err(Unfit) }
}

/// The entries of a map's members.
fn members_into(
    ty: Ty<'_>,
    map: &Map<String, Value>,
    reset: Option<&FieldSet>,
    strip: Option<&FieldSet>,
    out: &mut Map<String, Value>,
) -> Result<(), Unfit> {
    for (key, val) in map {
        let member = ty.member(key).ok_or(Unfit)?;
        if reset.is_some_and(|r| r.has_field_member(key)) {
            valid(member, val)?;
            continue;
        }
        let owned = !strip.is_some_and(|s| s.has_field_member(key));
        let entry = node(
            member,
            val,
            owned,
            reset.and_then(|r| r.field_child(key)),
            strip.and_then(|s| s.field_child(key)),
        )?;
        if let Some(entry) = entry {
            let mut k = String::with_capacity(key.len() + 2);
            k.push_str("f:");
            k.push_str(key);
            out.insert(k, entry);
        }
    }
    Ok(())
}

/// The entries of a map-list's or set's items.
fn items_into(
    items: Ty<'_>,
    kind: ListKind<'_>,
    list: &[Value],
    reset: Option<&FieldSet>,
    strip: Option<&FieldSet>,
    out: &mut Map<String, Value>,
) -> Result<(), Unfit> {
    let mut named: Vec<(PathElement, &Value)> = Vec::with_capacity(list.len());
    for item in list {
        let pe = list_item_element(items, kind, item).map_err(|_| Unfit)?;
        named.push((pe, item));
    }
    // Equal elements side by side, the first of the list first (its spelling is the
    // one recorded).
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = named.as_slice();
    while let Some(((pe, item), _)) = rest.split_first() {
        let same = rest.iter().take_while(|(other, _)| other == pe).count();
        let (group, tail) = rest.split_at(same);
        rest = tail;
        let owned = !strip.is_some_and(|s| s.has_member(pe));
        let entry = if reset.is_some_and(|r| r.has_member(pe)) {
            for (_, item) in group {
                valid(items, item)?;
            }
            None
        } else if same == 1 {
            node(
                items,
                item,
                owned,
                reset.and_then(|r| r.child(pe)),
                strip.and_then(|s| s.child(pe)),
            )?
        } else {
            // An item named twice is owned as a whole, not through its fields.
            for (_, item) in group {
                valid(items, item)?;
            }
            owned.then(|| Value::Object(Map::new()))
        };
        if let Some(entry) = entry {
            out.insert(pe.to_fields_v1_key(), entry);
        }
    }
    Ok(())
}
