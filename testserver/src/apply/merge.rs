//! The three walks of two objects through the schema that server-side apply is made
//! of (structured-merge-diff's `typed.Merge`, `Compare` and `RemoveItems`):
//!
//! - [`merge`]: lay an applied configuration over the live object; leaves and atomic
//!   values take the configuration's value, maps merge by key, map-lists and sets by
//!   item identity, keeping the configuration's order for the items it names;
//! - [`compare`]: which fields one object adds, modifies and removes relative to
//!   another;
//! - [`remove_items`]: drop the fields and items of a set from an object.
//!
//! Both sides of `merge` and `compare` must have been validated ([`validate`](super::typed::validate)).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::path::{PathElement, values_equal};
use super::set::FieldSet;
use super::typed::{Atom, ListKind, Ty, ValidationError, check_scalar, list_item_element};

type Errors = Vec<ValidationError>;

fn err(message: String) -> Errors {
    vec![ValidationError {
        path: String::new(),
        message,
    }]
}

fn prefixed(mut errs: Errors, pe: &PathElement) -> Errors {
    let prefix = pe.to_string();
    for e in &mut errs {
        e.path.insert_str(0, &prefix);
    }
    errs
}

/// Two atoms describe the same shape (upstream's `Atom.Equals`, after deduction).
fn same_shape(a: &Atom<'_>, b: &Atom<'_>) -> bool {
    matches!(
        (a, b),
        (Atom::Scalar(_), Atom::Scalar(_))
            | (Atom::List { .. }, Atom::List { .. })
            | (Atom::Map { .. }, Atom::Map { .. })
    )
}

/// Lays `rhs` (an applied configuration) over `lhs` (the live object).
///
/// # Errors
///
/// The validation errors met on the way, such as duplicate items in `rhs`.
pub(crate) fn merge(ty: Ty<'_>, lhs: &Value, rhs: &Value) -> Result<Value, Errors> {
    let (out, errs) = merge_node(ty, Some(lhs), Some(rhs));
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(out.unwrap_or(Value::Null))
}

/// Merges one node; `None` output means the node disappears from its parent.
fn merge_node(ty: Ty<'_>, lhs: Option<&Value>, rhs: Option<&Value>) -> (Option<Value>, Errors) {
    if lhs.is_none() && rhs.is_none() {
        return (
            None,
            err("at least one of lhs and rhs must be provided".to_owned()),
        );
    }
    let alhs = ty.atom(lhs);
    let arhs = ty.atom(rhs);
    match (lhs, rhs) {
        (_, None) => merge_atom(alhs, lhs, rhs),
        (None, _) => merge_atom(arhs, lhs, rhs),
        _ if same_shape(&alhs, &arhs) => merge_atom(arhs, lhs, rhs),
        _ => {
            // The shape changed (untyped values): walk the old shape for its errors,
            // keep the result of the new one.
            let (_, mut errs) = merge_atom(alhs, lhs, rhs);
            let (out, more) = merge_atom(arhs, lhs, rhs);
            errs.extend(more);
            (out, errs)
        }
    }
}

/// Upstream's `ruleKeepRHS`: the configuration's value wins, else the live one stays.
fn keep_rhs(lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
    rhs.or(lhs).cloned()
}

fn merge_atom(atom: Atom<'_>, lhs: Option<&Value>, rhs: Option<&Value>) -> (Option<Value>, Errors) {
    match atom {
        Atom::Scalar(kind) => {
            let l = lhs.and_then(|v| check_scalar(kind, v, "lhs: "));
            let r = rhs.and_then(|v| check_scalar(kind, v, "rhs: "));
            if let (Some(l), Some(r)) = (l, r) {
                return (None, [err(l), err(r)].concat());
            }
            (keep_rhs(lhs, rhs), Vec::new())
        }
        Atom::List { items, kind } => {
            let l = lhs.and_then(Value::as_array);
            let r = rhs.and_then(Value::as_array);
            let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
            if matches!(kind, ListKind::Atomic) || empty {
                return (keep_rhs(lhs, rhs), Vec::new());
            }
            merge_list(items, kind, l.map(Vec::as_slice), r.map(Vec::as_slice))
        }
        Atom::Map { ty, atomic } => {
            let l = lhs.and_then(Value::as_object);
            let r = rhs.and_then(Value::as_object);
            let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
            if atomic || empty {
                return (keep_rhs(lhs, rhs), Vec::new());
            }
            let mut keys: Vec<&String> = l.into_iter().chain(r).flat_map(Map::keys).collect();
            keys.sort();
            keys.dedup();
            let mut out = Map::new();
            let mut errs = Vec::new();
            for key in keys {
                let lv = l.and_then(|m| m.get(key));
                let rv = r.and_then(|m| m.get(key));
                let pe = PathElement::Field(key.clone());
                match ty.member(key) {
                    Some(member) => {
                        let (v, e) = merge_node(member, lv, rv);
                        errs.extend(prefixed(e, &pe));
                        if let Some(v) = v {
                            out.insert(key.clone(), v);
                        }
                    }
                    None => {
                        if let Some(v) = keep_rhs(lv, rv) {
                            out.insert(key.clone(), v);
                        }
                    }
                }
            }
            ((!out.is_empty()).then_some(Value::Object(out)), errs)
        }
    }
}

/// The path elements of a list's items in order, and the item each names (null for
/// an element named twice, where duplicates are allowed).
type Indexed<'v> = (Vec<PathElement>, BTreeMap<PathElement, &'v Value>);

fn index_items<'v>(
    items: Ty<'_>,
    kind: ListKind<'_>,
    list: Option<&'v [Value]>,
    allow_duplicates: bool,
    errs: &mut Errors,
) -> Indexed<'v> {
    static NULL: Value = Value::Null;
    let mut pes = Vec::new();
    let mut observed: BTreeMap<PathElement, &'v Value> = BTreeMap::new();
    for (i, child) in list.unwrap_or_default().iter().enumerate() {
        let pe = match list_item_element(items, kind, child) {
            Ok(pe) => pe,
            Err(e) => {
                errs.extend(err(format!("element {i}: {e}")));
                continue;
            }
        };
        if observed.contains_key(&pe) {
            if !allow_duplicates {
                errs.extend(err(format!("duplicate entries for key {pe}")));
                continue;
            }
            observed.insert(pe.clone(), &NULL);
        } else {
            observed.insert(pe.clone(), child);
        }
        pes.push(pe);
    }
    (pes, observed)
}

/// Merges map-list or set items: items only the live object has stay where they are,
/// items of the configuration come in its order, shared items merge.
fn merge_list(
    items: Ty<'_>,
    kind: ListKind<'_>,
    lhs: Option<&[Value]>,
    rhs: Option<&[Value]>,
) -> (Option<Value>, Errors) {
    let mut errs = Vec::new();
    let (rhs_pes, observed_rhs) = index_items(items, kind, rhs, false, &mut errs);
    let (lhs_pes, observed_lhs) = index_items(items, kind, lhs, true, &mut errs);
    if !errs.is_empty() {
        return (None, errs);
    }
    let mut shared = rhs_pes.iter().filter(|pe| observed_lhs.contains_key(pe));
    let mut next_shared = shared.next();
    let mut merged_rhs: BTreeMap<&PathElement, ()> = BTreeMap::new();
    let mut out = Vec::with_capacity(lhs_pes.len().max(rhs_pes.len()));
    let mut push = |l: Option<&Value>, r: Option<&Value>| {
        // Upstream drops the errors of individual items here.
        if let (Some(v), _) = merge_node(items, l, r) {
            out.push(v);
        }
    };
    let (mut li, mut ri) = (0, 0);
    while li < lhs_pes.len() || ri < rhs_pes.len() {
        let before = (li, ri);
        if li < lhs_pes.len() && ri < rhs_pes.len() {
            let pe = &lhs_pes[li];
            if *pe == rhs_pes[ri] {
                merged_rhs.insert(pe, ());
                push(observed_lhs.get(pe).copied(), observed_rhs.get(pe).copied());
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if observed_rhs.contains_key(pe) && next_shared.is_some_and(|n| n != pe) {
                // A shared item, but not the one the configuration wants next.
                li += 1;
                continue;
            }
        }
        if li < lhs_pes.len() {
            let pe = &lhs_pes[li];
            if !observed_rhs.contains_key(pe) {
                push(lhs.and_then(|l| l.get(li)), None);
                li += 1;
                continue;
            } else if merged_rhs.contains_key(pe) {
                li += 1;
            }
        }
        if ri < rhs_pes.len() {
            let pe = &rhs_pes[ri];
            merged_rhs.insert(pe, ());
            push(observed_lhs.get(pe).copied(), observed_rhs.get(pe).copied());
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.next();
            }
        }
        if before == (li, ri) {
            // Cannot happen with consistent indexes; never loop forever on bad input.
            break;
        }
    }
    ((!out.is_empty()).then_some(Value::Array(out)), errs)
}

/// Which fields `rhs` adds, modifies and removes relative to `lhs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub(crate) removed: FieldSet,
    pub(crate) modified: FieldSet,
    pub(crate) added: FieldSet,
}

impl Comparison {
    /// Drops from all three sets the fields of `ignore` and everything below them.
    pub(crate) fn exclude(&mut self, ignore: &FieldSet) {
        self.removed = self.removed.recursive_difference(ignore);
        self.modified = self.modified.recursive_difference(ignore);
        self.added = self.added.recursive_difference(ignore);
    }
}

/// Compares two objects of type `ty` (structured-merge-diff's `TypedValue.Compare`).
///
/// # Errors
///
/// The validation errors met on the way.
pub(crate) fn compare(ty: Ty<'_>, lhs: &Value, rhs: &Value) -> Result<Comparison, Errors> {
    let mut c = Comparison::default();
    let errs = compare_node(ty, Some(lhs), Some(rhs), &mut Vec::new(), &mut c);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(c)
}

fn compare_node(
    ty: Ty<'_>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> Errors {
    if lhs.is_none() && rhs.is_none() {
        return err("at least one of lhs and rhs must be provided".to_owned());
    }
    let alhs = ty.atom(lhs);
    let arhs = ty.atom(rhs);
    let (leaf, errs) = match (lhs, rhs) {
        (_, None) => compare_atom(alhs, lhs, rhs, path, c),
        (None, _) => compare_atom(arhs, lhs, rhs, path, c),
        _ if same_shape(&alhs, &arhs) => compare_atom(arhs, lhs, rhs, path, c),
        _ => {
            let (_, mut errs) = compare_atom(alhs, lhs, rhs, path, c);
            let (leaf, more) = compare_atom(arhs, lhs, rhs, path, c);
            errs.extend(more);
            (leaf, errs)
        }
    };
    if !leaf {
        if lhs.is_none() {
            c.added.insert(path);
        } else if rhs.is_none() {
            c.removed.insert(path);
        }
    }
    errs
}

/// Records a leaf (scalar, atomic or empty value) as added, removed or modified.
fn compare_leaf(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &[PathElement],
    c: &mut Comparison,
) {
    match (lhs, rhs) {
        (None, _) => c.added.insert(path),
        (_, None) => c.removed.insert(path),
        (Some(l), Some(r)) if !values_equal(l, r) => c.modified.insert(path),
        _ => {}
    }
}

/// Compares one node under one shape; returns whether it was a leaf.
fn compare_atom(
    atom: Atom<'_>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> (bool, Errors) {
    match atom {
        Atom::Scalar(kind) => {
            let l = lhs.and_then(|v| check_scalar(kind, v, "lhs: "));
            let r = rhs.and_then(|v| check_scalar(kind, v, "rhs: "));
            if let (Some(l), Some(r)) = (l, r) {
                return (false, [err(l), err(r)].concat());
            }
            compare_leaf(lhs, rhs, path, c);
            (true, Vec::new())
        }
        Atom::List { items, kind } => {
            let l = lhs.and_then(Value::as_array);
            let r = rhs.and_then(Value::as_array);
            let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
            if matches!(kind, ListKind::Atomic) || empty {
                compare_leaf(lhs, rhs, path, c);
                return (true, Vec::new());
            }
            (false, compare_list(items, kind, l, r, path, c))
        }
        Atom::Map { ty, atomic } => {
            let l = lhs.and_then(Value::as_object);
            let r = rhs.and_then(Value::as_object);
            let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
            if atomic || empty {
                compare_leaf(lhs, rhs, path, c);
                return (true, Vec::new());
            }
            let mut keys: Vec<&String> = l.into_iter().chain(r).flat_map(Map::keys).collect();
            keys.sort();
            keys.dedup();
            let mut errs = Vec::new();
            for key in keys {
                let pe = PathElement::Field(key.clone());
                let member = ty.member(key).unwrap_or(Ty::AtomicAny);
                path.push(pe.clone());
                let e = compare_node(
                    member,
                    l.and_then(|m| m.get(key)),
                    r.and_then(|m| m.get(key)),
                    path,
                    c,
                );
                path.pop();
                errs.extend(prefixed(e, &pe));
            }
            (false, errs)
        }
    }
}

fn compare_list(
    items: Ty<'_>,
    kind: ListKind<'_>,
    lhs: Option<&Vec<Value>>,
    rhs: Option<&Vec<Value>>,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> Errors {
    let mut errs = Vec::new();
    // Every distinct element once, with the items each side has under it.
    let mut order: Vec<PathElement> = Vec::new();
    let mut by_pe: BTreeMap<PathElement, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
    for (side, list) in [(0, lhs), (1, rhs)] {
        for (i, item) in list
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let pe = match list_item_element(items, kind, item) {
                Ok(pe) => pe,
                Err(e) => {
                    errs.extend(err(format!("element {i}: {e}")));
                    continue;
                }
            };
            let entry = by_pe.entry(pe.clone()).or_insert_with(|| {
                order.push(pe.clone());
                (Vec::new(), Vec::new())
            });
            if side == 0 {
                entry.0.push(item);
            } else {
                entry.1.push(item);
            }
        }
    }
    for pe in order {
        let Some((l, r)) = by_pe.get(&pe) else {
            continue;
        };
        path.push(pe.clone());
        match (l.len(), r.len()) {
            (0, 0) => {}
            (0..=1, 0..=1) => {
                let e = compare_node(items, l.first().copied(), r.first().copied(), path, c);
                errs.extend(prefixed(e, &pe));
            }
            // Duplicates on both sides: compared as a whole.
            (2.., 2..) => {
                let same = l.len() == r.len() && l.iter().zip(r).all(|(a, b)| values_equal(a, b));
                if !same {
                    c.modified.insert(path);
                }
            }
            // Duplicates resolved: the new single item is added, the duplicate removed.
            (2.., _) => {
                if let Some(item) = r.first() {
                    let e = compare_node(items, None, Some(item), path, c);
                    errs.extend(prefixed(e, &pe));
                }
                c.removed.insert(path);
            }
            // Duplicates introduced: the old single item is removed, the duplicate added.
            (_, _) => {
                if let Some(item) = l.first() {
                    let e = compare_node(items, Some(item), None, path, c);
                    errs.extend(prefixed(e, &pe));
                }
                c.added.insert(path);
            }
        }
        path.pop();
    }
    errs
}

/// `value` without the fields and items of `to_remove` (structured-merge-diff's
/// `TypedValue.RemoveItems`). A map or list left empty becomes null, as upstream's does.
pub(crate) fn remove_items(ty: Ty<'_>, value: &Value, to_remove: &FieldSet) -> Value {
    match ty.atom(Some(value)) {
        Atom::Scalar(_) => value.clone(),
        Atom::List { items, kind } => {
            let Value::Array(list) = value else {
                return Value::Null;
            };
            if list.is_empty() || matches!(kind, ListKind::Atomic) {
                return Value::Null;
            }
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                let Ok(pe) = list_item_element(items, kind, item) else {
                    out.push(item.clone());
                    continue;
                };
                if to_remove.has_member(&pe) {
                    continue;
                }
                match to_remove.child(&pe) {
                    Some(subset) if !subset.is_empty() => {
                        out.push(remove_items(items, item, subset));
                    }
                    _ => out.push(item.clone()),
                }
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Array(out)
            }
        }
        Atom::Map { ty, atomic } => {
            let Value::Object(map) = value else {
                return Value::Null;
            };
            if map.is_empty() || atomic {
                return Value::Null;
            }
            let mut out = Map::new();
            for (key, val) in map {
                let pe = PathElement::Field(key.clone());
                if to_remove.has_member(&pe) {
                    continue;
                }
                let kept = match to_remove.child(&pe) {
                    Some(subset) if !subset.is_empty() => {
                        remove_items(ty.member(key).unwrap_or(Ty::AtomicAny), val, subset)
                    }
                    _ => val.clone(),
                };
                out.insert(key.clone(), kept);
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
    }
}
