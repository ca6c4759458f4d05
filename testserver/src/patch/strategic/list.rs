//! Lists: merging by key or as sets, list-item directives, and the order of the result
//! (`$setElementOrder`, the patch list's order, the live list's order).

use serde_json::Value;

use super::error::GoType;
use super::{
    At, DIRECTIVE, Error, ListInfo, Object, SET_ELEMENT_ORDER, directive_target, list_member,
    merge_object, without_directives,
};

/// Merges a patch list into the original list of a field whose strategy is `merge`, or
/// removes the `deletion` list's values from it (upstream `mergeSlice`).
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    info: &ListInfo<'_>,
    deletion: bool,
) -> Result<Vec<Value>, Error> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_type(&[&original, &patch])?;
    let key = info.merge_key;

    if kind != GoType::Map {
        let mut original = original;
        if deletion {
            original.retain(|v| !patch.contains(v));
            return Ok(original);
        }
        let server_order = identities(&original, key)?;
        let patch_order = identities(&patch, key)?;
        // A set: each value once, wherever it came from.
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for value in original.into_iter().chain(patch) {
            if !merged.contains(&value) {
                merged.push(value);
            }
        }
        let (patch_items, server_only) = partition(merged, &patch_order, key)?;
        return Ok(normalize(
            patch_items,
            server_only,
            &patch_order,
            &server_order,
        ));
    }

    let Some(key) = key else {
        return Err(Error::NoMergeKeyForList {
            kind: super::go_kind(info.items),
        });
    };
    let (original, patch) = list_directives(original, patch, key)?;
    let server_order = identities(&original, Some(key))?;
    let patch_order = identities(&patch, Some(key))?;
    let merged = merge_items(original, patch, key, info.items)?;
    let (patch_items, server_only) = partition(merged, &patch_order, Some(key))?;
    Ok(normalize(
        patch_items,
        server_only,
        &patch_order,
        &server_order,
    ))
}

/// Applies the `$patch` items of a patch list of objects: `delete` drops every original
/// item with that key, `replace` makes the patch's other items the whole list. Returns
/// the original and the patch items left to merge.
fn list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            return Err(Error::wrong_type(GoType::Map, &item));
        };
        match map.get(DIRECTIVE) {
            None => rest.push(item),
            Some(Value::String(d)) if d == "delete" => {
                let Some(value) = map.get(key) else {
                    return Err(Error::missing_merge_key(map, key));
                };
                original.retain(|o| o.get(key) != Some(value));
            }
            // Keep going: later `$patch` items still count (and can still fail).
            Some(Value::String(d)) if d == "replace" => replace = true,
            Some(Value::String(d)) if d == "merge" => return Err(Error::MergeDirectiveInList),
            Some(other) => return Err(Error::unknown_patch_type(other, map)),
        }
    }
    if replace {
        Ok((rest, Vec::new()))
    } else {
        Ok((original, rest))
    }
}

/// Merges each patch item into the original item with the same key, or appends it as it
/// is (upstream `mergeSliceWithoutSpecialElements`).
fn merge_items(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    items: At<'_>,
) -> Result<Vec<Value>, Error> {
    for item in patch {
        let Value::Object(item) = item else {
            return Err(Error::wrong_type(GoType::Map, &item));
        };
        let Some(value) = item.get(key) else {
            return Err(Error::missing_merge_key(&item, key));
        };
        let mut found = None;
        for (index, candidate) in original.iter().enumerate() {
            let Value::Object(candidate) = candidate else {
                return Err(Error::ItemNotAnObject { index });
            };
            if candidate.get(key) == Some(value) {
                found = Some(index);
                break;
            }
        }
        match found.and_then(|i| original.get_mut(i)) {
            Some(Value::Object(current)) => {
                let taken = std::mem::take(current);
                *current = merge_object(taken, item, items)?;
            }
            _ => original.push(Value::Object(item)),
        }
    }
    Ok(original)
}

/// Processes every `$setElementOrder/<field>` of `patch`: merges the field's patch list
/// (if any) into the original list, then orders the result (upstream
/// `mergePatchIntoOriginal`). Both the directive and the patch list leave `patch`.
pub(super) fn set_element_orders(
    original: &mut Object,
    patch: &mut Object,
    at: At<'_>,
) -> Result<(), Error> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let Some(order) = patch.remove(&directive) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(Error::wrong_type(GoType::Slice, &order));
        };
        let field = directive_target(&directive, SET_ELEMENT_ORDER)
            .ok_or(Error::InvalidSetElementOrderFormat)?;

        let current = match original.get(field) {
            None => None,
            Some(Value::Array(list)) => Some(list),
            Some(other) => return Err(Error::wrong_type(GoType::Slice, other)),
        };
        let patch_list = match patch.remove(field) {
            None => None,
            Some(Value::Array(list)) => Some(list),
            Some(other) => return Err(Error::wrong_type(GoType::Slice, &other)),
        };
        let info = list_member(at, field, true)?;
        let key = info.merge_key;
        validate_order(patch_list.as_deref().unwrap_or_default(), &order, key)?;
        if current.is_none() && patch_list.is_none() {
            continue;
        }
        let current_items = current.map(Vec::as_slice).unwrap_or_default();
        element_type(&[current_items, patch_list.as_deref().unwrap_or_default()])?;
        let server_order = identities(current_items, key)?;
        let order = identities(&order, key)?;

        let current = current.cloned();
        let merged = match (current, patch_list) {
            (Some(current), None) => current,
            (None, Some(patch_list)) => patch_list
                .into_iter()
                .filter_map(|v| without_directives(v, false))
                .collect(),
            (Some(current), Some(patch_list)) if info.merge => {
                merge_list(current, patch_list, &info, false)?
            }
            (_, Some(patch_list)) => patch_list,
            (None, None) => continue,
        };
        let (patch_items, server_only) = partition(merged, &order, key)?;
        let sorted = normalize(patch_items, server_only, &order, &server_order);
        original.insert(field.to_owned(), Value::Array(sorted));
    }
    Ok(())
}

/// Checks that the patch list names its items in an order `$setElementOrder` allows:
/// the patch items (deletions and other `$patch` items aside) must appear in the order
/// list, in the same relative order.
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), Error> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut kept = Vec::with_capacity(patch.len());
    for item in patch {
        if key.is_some() {
            if !matches!(item, Value::Object(_)) {
                return Err(Error::wrong_type(GoType::Map, item));
            }
            if is_delete_item(item) {
                continue;
            }
        }
        kept.push(item);
    }
    let (mut p, mut o) = (0, 0);
    while let (Some(item), Some(named)) = (kept.get(p), order.get(o)) {
        if item.get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if same_item(item, named, key)? {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() {
        return Err(Error::order_mismatch(patch, order));
    }
    Ok(())
}

/// Whether two items are the same: equal merge keys, or equal values without one.
fn same_item(left: &Value, right: &Value, key: Option<&str>) -> Result<bool, Error> {
    let Some(key) = key else {
        return Ok(left == right);
    };
    let (Value::Object(l), Value::Object(r)) = (left, right) else {
        let bad = if left.is_object() { right } else { left };
        return Err(Error::wrong_type(GoType::Map, bad));
    };
    match (l.get(key), r.get(key)) {
        (Some(a), Some(b)) => Ok(a == b),
        (None, _) => Err(Error::missing_merge_key(l, key)),
        (_, None) => Err(Error::missing_merge_key(r, key)),
    }
}

fn is_delete_item(item: &Value) -> bool {
    item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// The type shared by every item of `lists` (upstream `sliceElementType`).
fn element_type(lists: &[&[Value]]) -> Result<GoType, Error> {
    let mut first = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        let ty = GoType::of(item);
        match first {
            None if ty == GoType::Slice => return Err(Error::ListOfLists),
            // Upstream dereferences a nil type here and panics.
            None if ty == GoType::Nil => return Err(Error::mixed_element_types(lists)),
            None => first = Some(ty),
            Some(t) if t != ty => return Err(Error::mixed_element_types(lists)),
            Some(_) => {}
        }
    }
    first.ok_or(Error::NoElements)
}

/// What identifies each item: its merge-key value, or the item itself without a key.
fn identities(items: &[Value], key: Option<&str>) -> Result<Vec<Value>, Error> {
    items.iter().map(|item| identity(item, key)).collect()
}

fn identity(item: &Value, key: Option<&str>) -> Result<Value, Error> {
    let Some(key) = key else {
        return Ok(item.clone());
    };
    let Value::Object(map) = item else {
        return Err(Error::wrong_type(GoType::Map, item));
    };
    map.get(key)
        .cloned()
        .ok_or_else(|| Error::missing_merge_key(map, key))
}

/// An item with its identity.
type Keyed = (Value, Value);

/// Splits merged items into those `order` names (identities) and the server-only rest.
fn partition(
    merged: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Keyed>, Vec<Keyed>), Error> {
    // Without a key upstream hashes whole items and panics on objects and lists.
    let unorderable = |v: &Value| key.is_none() && (v.is_object() || v.is_array());
    if order.iter().any(unorderable) {
        return Err(Error::UnorderableItems);
    }
    let (mut named, mut rest) = (Vec::new(), Vec::new());
    for item in merged {
        if unorderable(&item) {
            return Err(Error::UnorderableItems);
        }
        let id = identity(&item, key)?;
        if order.contains(&id) {
            named.push((id, item));
        } else {
            rest.push((id, item));
        }
    }
    Ok((named, rest))
}

/// Orders the patch items by `patch_order` and the server-only items by `server_order`,
/// then interleaves them (upstream `normalizeElementOrder`).
fn normalize(
    patch_items: Vec<Keyed>,
    server_only: Vec<Keyed>,
    patch_order: &[Value],
    server_order: &[Value],
) -> Vec<Value> {
    let patch_items = sort_by_order(patch_items, patch_order);
    let server_only = sort_by_order(server_only, server_order);
    interleave(server_only, patch_items, server_order)
}

/// A stable sort by each item's first position in `order`; items marked
/// `$patch: delete` go last. Upstream's comparator calls an item it cannot find
/// "smaller"; every item is found where upstream calls this, and an unfound one sorts
/// last here, so the order stays total.
fn sort_by_order(items: Vec<Keyed>, order: &[Value]) -> Vec<Keyed> {
    let (mut ranked, deleted): (Vec<_>, Vec<_>) = items
        .into_iter()
        .map(|keyed| {
            let rank = order
                .iter()
                .position(|o| *o == keyed.0)
                .unwrap_or(usize::MAX);
            (rank, keyed)
        })
        .partition(|(_, (_, item))| !is_delete_item(item));
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked
        .into_iter()
        .chain(deleted)
        .map(|(_, keyed)| keyed)
        .collect()
}

/// Merges two ordered lists (upstream `mergeSortedSlice`): a server-only item goes
/// first only when the live list had it before the next patch item; otherwise (the
/// patch item is new, or came earlier) the patch item goes first.
fn interleave(
    server_only: Vec<Keyed>,
    patch_items: Vec<Keyed>,
    server_order: &[Value],
) -> Vec<Value> {
    let position = |id: &Value| server_order.iter().position(|o| o == id);
    let mut out = Vec::with_capacity(server_only.len() + patch_items.len());
    let mut server_only = server_only.into_iter().peekable();
    let mut patch_items = patch_items.into_iter().peekable();
    loop {
        let take_server = match (server_only.peek(), patch_items.peek()) {
            (Some((s, _)), Some((p, _))) => {
                matches!((position(s), position(p)), (Some(s), Some(p)) if s < p)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_server {
            server_only.next()
        } else {
            patch_items.next()
        };
        if let Some((_, item)) = next {
            out.push(item);
        }
    }
    out
}
