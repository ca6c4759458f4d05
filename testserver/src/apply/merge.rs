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

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::path::{PathElement, values_equal};
use super::set::FieldSet;
use super::typed::{Atom, Level, ListKind, Ty, ValidationError, check_scalar, list_item_element};

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
        self.removed.subtract_recursive(ignore);
        self.modified.subtract_recursive(ignore);
        self.added.subtract_recursive(ignore);
    }
}

/// Compares two objects of type `ty` (structured-merge-diff's `TypedValue.Compare`).
///
/// # Errors
///
/// The validation errors met on the way.
pub(crate) fn compare(ty: Ty<'_>, lhs: &Value, rhs: &Value) -> Result<Comparison, Errors> {
    let mut walk = Walk::new(false);
    let errs = walk.node(ty, Some(lhs), Some(rhs), Level::Below);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(walk.c)
}

/// [`compare`] of two objects' roots as if neither had `metadata.managedFields`, without
/// copying them; subtrees equal on both sides are skipped rather than walked, so an
/// update costs about what it changed. Both objects must be valid ([`is_valid_object`](super::typed::is_valid_object)):
/// errors inside equal subtrees would go unreported.
///
/// # Errors
///
/// The validation errors met on the way.
pub(crate) fn compare_objects(
    ty: Ty<'_>,
    lhs: &Map<String, Value>,
    rhs: &Map<String, Value>,
) -> Result<Comparison, Errors> {
    let mut walk = Walk::new(true);
    let errs = match ty.object_atom() {
        Atom::Map { ty, atomic: false } if !(lhs.is_empty() && rhs.is_empty()) => {
            walk.members(ty, Some(lhs), Some(rhs), Level::Root)
        }
        // Otherwise the root is a leaf, and the root path is never recorded; the only
        // errors would be the ones validation reports.
        _ => Vec::new(),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(walk.c)
}

/// The members of two maps side by side in key order, as `(key, left, right)`.
/// serde_json's maps iterate in key order (its `preserve_order` feature is off;
/// `tests::fast_paths` checks).
fn side_by_side<'m>(
    l: Option<&'m Map<String, Value>>,
    r: Option<&'m Map<String, Value>>,
    level: Level,
) -> impl Iterator<Item = (&'m String, Option<&'m Value>, Option<&'m Value>)> {
    let mut l = l.into_iter().flat_map(move |m| level.visible(m)).peekable();
    let mut r = r.into_iter().flat_map(move |m| level.visible(m)).peekable();
    std::iter::from_fn(move || {
        let order = match (l.peek(), r.peek()) {
            (Some((a, _)), Some((b, _))) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return None,
        };
        match order {
            Ordering::Less => l.next().map(|(k, v)| (k, Some(v), None)),
            Ordering::Greater => r.next().map(|(k, v)| (k, None, Some(v))),
            Ordering::Equal => {
                let (k, a) = l.next()?;
                r.next().map(|(_, b)| (k, Some(a), Some(b)))
            }
        }
    })
}

/// One comparison: where it is, what it found so far.
struct Walk {
    path: Vec<PathElement>,
    c: Comparison,
    /// Skip subtrees equal on both sides (they add nothing, and report no error when
    /// either side is valid).
    skip_equal: bool,
}

impl Walk {
    fn new(skip_equal: bool) -> Self {
        Self {
            path: Vec::new(),
            c: Comparison::default(),
            skip_equal,
        }
    }

    /// Whether a pair of values may be skipped: both present and equal.
    fn skips(&self, lhs: Option<&Value>, rhs: Option<&Value>) -> bool {
        self.skip_equal && matches!((lhs, rhs), (Some(l), Some(r)) if l == r)
    }

    /// Compares the node below [`Self::path`], pushing `pe` for it.
    fn step(
        &mut self,
        pe: PathElement,
        ty: Ty<'_>,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        level: Level,
    ) -> Errors {
        self.path.push(pe);
        let e = self.node(ty, lhs, rhs, level);
        let pe = self.path.pop();
        match pe {
            Some(pe) if !e.is_empty() => prefixed(e, &pe),
            _ => e,
        }
    }

    fn node(
        &mut self,
        ty: Ty<'_>,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        level: Level,
    ) -> Errors {
        if lhs.is_none() && rhs.is_none() {
            return err("at least one of lhs and rhs must be provided".to_owned());
        }
        let alhs = ty.atom(lhs);
        let arhs = ty.atom(rhs);
        let (leaf, errs) = match (lhs, rhs) {
            (_, None) => self.atom(alhs, lhs, rhs, level),
            (None, _) => self.atom(arhs, lhs, rhs, level),
            _ if same_shape(&alhs, &arhs) => self.atom(arhs, lhs, rhs, level),
            _ => {
                let (_, mut errs) = self.atom(alhs, lhs, rhs, level);
                let (leaf, more) = self.atom(arhs, lhs, rhs, level);
                errs.extend(more);
                (leaf, errs)
            }
        };
        if !leaf {
            if lhs.is_none() {
                self.c.added.insert(&self.path);
            } else if rhs.is_none() {
                self.c.removed.insert(&self.path);
            }
        }
        errs
    }

    /// Records a leaf (scalar, atomic or empty value) as added, removed or modified.
    fn leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>, level: Level) {
        match (lhs, rhs) {
            (None, _) => self.c.added.insert(&self.path),
            (_, None) => self.c.removed.insert(&self.path),
            (Some(l), Some(r)) if !level.values_equal(l, r) => self.c.modified.insert(&self.path),
            _ => {}
        }
    }

    /// Compares one node under one shape; returns whether it was a leaf.
    fn atom(
        &mut self,
        atom: Atom<'_>,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        level: Level,
    ) -> (bool, Errors) {
        match atom {
            Atom::Scalar(kind) => {
                let l = lhs.and_then(|v| check_scalar(kind, v, "lhs: "));
                let r = rhs.and_then(|v| check_scalar(kind, v, "rhs: "));
                if let (Some(l), Some(r)) = (l, r) {
                    return (false, [err(l), err(r)].concat());
                }
                self.leaf(lhs, rhs, level);
                (true, Vec::new())
            }
            Atom::List { items, kind } => {
                let l = lhs.and_then(Value::as_array);
                let r = rhs.and_then(Value::as_array);
                let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
                if matches!(kind, ListKind::Atomic) || empty {
                    self.leaf(lhs, rhs, level);
                    return (true, Vec::new());
                }
                (false, self.list(items, kind, l, r))
            }
            Atom::Map { ty, atomic } => {
                let l = lhs.and_then(Value::as_object);
                let r = rhs.and_then(Value::as_object);
                let empty =
                    l.is_none_or(|m| level.is_empty(m)) && r.is_none_or(|m| level.is_empty(m));
                if atomic || empty {
                    self.leaf(lhs, rhs, level);
                    return (true, Vec::new());
                }
                (false, self.members(ty, l, r, level))
            }
        }
    }

    /// Compares the members of two maps of type `ty`, in key order.
    fn members(
        &mut self,
        ty: Ty<'_>,
        l: Option<&Map<String, Value>>,
        r: Option<&Map<String, Value>>,
        level: Level,
    ) -> Errors {
        let mut errs = Vec::new();
        for (key, lv, rv) in side_by_side(l, r, level) {
            if self.skips(lv, rv) {
                continue;
            }
            let member = ty.member(key).unwrap_or(Ty::AtomicAny);
            let pe = PathElement::Field(key.clone());
            errs.extend(self.step(pe, member, lv, rv, level.child(key)));
        }
        errs
    }

    fn list(
        &mut self,
        items: Ty<'_>,
        kind: ListKind<'_>,
        lhs: Option<&Vec<Value>>,
        rhs: Option<&Vec<Value>>,
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
                    order.push(pe);
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
            match (l.len(), r.len()) {
                (0, 0) => {}
                (0..=1, 0..=1) => {
                    let (l, r) = (l.first().copied(), r.first().copied());
                    if !self.skips(l, r) {
                        errs.extend(self.step(pe, items, l, r, Level::Below));
                    }
                }
                // Duplicates on both sides: compared as a whole.
                (2.., 2..) => {
                    let same =
                        l.len() == r.len() && l.iter().zip(r).all(|(a, b)| values_equal(a, b));
                    if !same {
                        self.path.push(pe);
                        self.c.modified.insert(&self.path);
                        self.path.pop();
                    }
                }
                // Duplicates resolved: the new single item is added, the duplicate removed.
                (2.., _) => {
                    self.path.push(pe);
                    if let Some(item) = r.first() {
                        let e = self.node(items, None, Some(item), Level::Below);
                        if !e.is_empty() {
                            errs.extend(prefixed(e, &self.path[self.path.len() - 1]));
                        }
                    }
                    self.c.removed.insert(&self.path);
                    self.path.pop();
                }
                // Duplicates introduced: the old single item is removed, the duplicate added.
                (_, _) => {
                    self.path.push(pe);
                    if let Some(item) = l.first() {
                        let e = self.node(items, Some(item), None, Level::Below);
                        if !e.is_empty() {
                            errs.extend(prefixed(e, &self.path[self.path.len() - 1]));
                        }
                    }
                    self.c.added.insert(&self.path);
                    self.path.pop();
                }
            }
        }
        errs
    }
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
