//! [`FieldSet`]: a set of field paths stored as a trie, with the set algebra managed
//! fields need and the `fieldsV1` encoding (structured-merge-diff's `fieldpath.Set`).

use serde_json::{Map, Value};

use super::ApplyError;
use super::path::{Path, PathElement};

/// A set of field paths (structured-merge-diff's `fieldpath.Set`).
///
/// A trie: `members` are the paths that end at this level, `children` the subtrees
/// below a step. A step can be both — a map-list item is owned itself (`.`) and
/// through its fields — which `fieldsV1` writes as `{"k:{…}":{".":{},"f:name":{}}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSet {
    /// Sorted, without duplicates.
    members: Vec<PathElement>,
    /// Sorted by step, without duplicate steps; every subtree is non-empty.
    children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    /// The empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A set of `paths`.
    pub(crate) fn from_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut s = Self::new();
        for p in paths {
            s.insert(&p.0);
        }
        s
    }

    /// Whether the set has no paths.
    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.iter().all(|(_, c)| c.is_empty())
    }

    /// The number of paths.
    pub(crate) fn len(&self) -> usize {
        self.members.len() + self.children.iter().map(|(_, c)| c.len()).sum::<usize>()
    }

    /// Adds a path (nothing for the empty path).
    pub(crate) fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                if let Err(i) = self.members.binary_search(last) {
                    self.members.insert(i, last.clone());
                }
            }
            [first, rest @ ..] => self.descend(first).insert(rest),
        }
    }

    /// The subtree below `pe`, created if absent.
    fn descend(&mut self, pe: &PathElement) -> &mut FieldSet {
        let i = match self.children.binary_search_by(|(p, _)| p.cmp(pe)) {
            Ok(i) => i,
            Err(i) => {
                self.children.insert(i, (pe.clone(), FieldSet::new()));
                i
            }
        };
        &mut self.children[i].1
    }

    /// Whether `path` is in the set.
    pub(crate) fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.binary_search(last).is_ok(),
            [first, rest @ ..] => self.child(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether `pe` is a member at this level.
    pub(crate) fn has_member(&self, pe: &PathElement) -> bool {
        self.members.binary_search(pe).is_ok()
    }

    /// The subtree below `pe`, if any.
    pub(crate) fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children
            .binary_search_by(|(p, _)| p.cmp(pe))
            .ok()
            .map(|i| &self.children[i].1)
    }

    /// Whether the field step `name` is a member at this level ([`has_member`](Self::has_member)
    /// without building the step).
    pub(crate) fn has_field_member(&self, name: &str) -> bool {
        self.members
            .binary_search_by(|m| cmp_field(m, name))
            .is_ok()
    }

    /// The subtree below the field step `name`, if any ([`child`](Self::child) without
    /// building the step).
    pub(crate) fn field_child(&self, name: &str) -> Option<&FieldSet> {
        self.children
            .binary_search_by(|(p, _)| cmp_field(p, name))
            .ok()
            .map(|i| &self.children[i].1)
    }

    /// The members at this level.
    pub(crate) fn members(&self) -> &[PathElement] {
        &self.members
    }

    /// The subtrees at this level.
    pub(crate) fn children(&self) -> &[(PathElement, FieldSet)] {
        &self.children
    }

    /// Builds a set from sorted, duplicate-free members and children (empty subtrees
    /// are dropped).
    pub(crate) fn from_parts(
        members: Vec<PathElement>,
        children: Vec<(PathElement, FieldSet)>,
    ) -> Self {
        Self {
            members,
            children: children
                .into_iter()
                .filter(|(_, c)| !c.is_empty())
                .collect(),
        }
    }

    /// Every path in the set or in `other`.
    pub(crate) fn union(&self, other: &FieldSet) -> FieldSet {
        let members = merge_sorted(&self.members, &other.members, |a, b| a.cmp(b), Pick::Union);
        let mut children = Vec::with_capacity(self.children.len() + other.children.len());
        let (mut i, mut j) = (0, 0);
        while i < self.children.len() && j < other.children.len() {
            let (pa, ca) = &self.children[i];
            let (pb, cb) = &other.children[j];
            match pa.cmp(pb) {
                std::cmp::Ordering::Less => {
                    children.push((pa.clone(), ca.clone()));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    children.push((pb.clone(), cb.clone()));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    children.push((pa.clone(), ca.union(cb)));
                    i += 1;
                    j += 1;
                }
            }
        }
        children.extend(self.children[i..].iter().cloned());
        children.extend(other.children[j..].iter().cloned());
        Self::from_parts(members, children)
    }

    /// The paths in both sets.
    pub(crate) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = merge_sorted(&self.members, &other.members, |a, b| a.cmp(b), Pick::Both);
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| other.child(pe).map(|oc| (pe.clone(), c.intersection(oc))))
            .collect();
        Self::from_parts(members, children)
    }

    /// The paths of this set that are not in `other`. A member of `other` does not
    /// remove the paths below it (see [`recursive_difference`](Self::recursive_difference)).
    pub(crate) fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = merge_sorted(&self.members, &other.members, |a, b| a.cmp(b), Pick::Left);
        let children = self
            .children
            .iter()
            .map(|(pe, c)| match other.child(pe) {
                Some(oc) => (pe.clone(), c.difference(oc)),
                None => (pe.clone(), c.clone()),
            })
            .collect();
        Self::from_parts(members, children)
    }

    /// Like [`difference`](Self::difference), but a member of `other` also removes
    /// every path below it.
    pub(crate) fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = merge_sorted(&self.members, &other.members, |a, b| a.cmp(b), Pick::Left);
        let children = self
            .children
            .iter()
            .filter(|(pe, _)| !other.has_member(pe))
            .map(|(pe, c)| match other.child(pe) {
                Some(oc) => (pe.clone(), c.recursive_difference(oc)),
                None => (pe.clone(), c.clone()),
            })
            .collect();
        Self::from_parts(members, children)
    }

    /// Removes the paths of `other` in place: the same set as
    /// [`difference`](Self::difference), with `self`'s elements kept. Costs what
    /// `other` is big, not what `self` is.
    pub(crate) fn subtract(&mut self, other: &FieldSet) {
        for m in &other.members {
            if let Ok(i) = self.members.binary_search(m) {
                self.members.remove(i);
            }
        }
        for (pe, oc) in &other.children {
            if let Ok(i) = self.children.binary_search_by(|(p, _)| p.cmp(pe)) {
                let child = &mut self.children[i].1;
                child.subtract(oc);
                if child.is_empty() {
                    self.children.remove(i);
                }
            }
        }
    }

    /// Removes the paths of `other`, and everything below its members, in place: the
    /// same set as [`recursive_difference`](Self::recursive_difference).
    pub(crate) fn subtract_recursive(&mut self, other: &FieldSet) {
        for m in &other.members {
            if let Ok(i) = self.members.binary_search(m) {
                self.members.remove(i);
            }
            if let Ok(i) = self.children.binary_search_by(|(p, _)| p.cmp(m)) {
                self.children.remove(i);
            }
        }
        for (pe, oc) in &other.children {
            if other.has_member(pe) {
                continue;
            }
            if let Ok(i) = self.children.binary_search_by(|(p, _)| p.cmp(pe)) {
                let child = &mut self.children[i].1;
                child.subtract_recursive(oc);
                if child.is_empty() {
                    self.children.remove(i);
                }
            }
        }
    }

    /// Adds the paths of `other` in place: the same set as [`union`](Self::union),
    /// `self`'s element kept where both have an equal one.
    pub(crate) fn union_with(&mut self, other: FieldSet) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other;
            return;
        }
        if !other.members.is_empty() {
            let mine = std::mem::take(&mut self.members);
            self.members = merge_owned(mine, other.members, |_, _| {});
        }
        if !other.children.is_empty() {
            let mine = std::mem::take(&mut self.children);
            self.children = merge_owned_by(
                mine,
                other.children,
                |a, b| a.0.cmp(&b.0),
                |a, b| a.1.union_with(b.1),
            );
        }
    }

    /// Every path, members of a level before the subtrees, as upstream iterates.
    pub(crate) fn paths(&self) -> Vec<Path> {
        let mut out = Vec::with_capacity(self.len());
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(Path(p));
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Decodes a `fieldsV1` trie (`metadata.managedFields[].fieldsV1`).
    ///
    /// # Errors
    ///
    /// [`ApplyError::Invalid`] when the value is not a trie of objects or a key is
    /// malformed. Keys of an unknown kind (`x:…`) are dropped, as upstream drops them.
    pub(crate) fn from_fields_v1(v: &Value) -> Result<Self, ApplyError> {
        match v {
            Value::Null => Ok(Self::new()),
            Value::Object(map) => read_trie(map)
                .map(|(children, _)| children.unwrap_or_default())
                .map_err(ApplyError::Invalid),
            other => Err(ApplyError::Invalid(format!(
                "fieldsV1 must be a JSON object, got {other}"
            ))),
        }
    }

    /// Encodes the set as a `fieldsV1` trie.
    pub(crate) fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    /// Whether [`to_fields_v1`](Self::to_fields_v1) gives exactly `v`, found without
    /// building it: managed fields that did not change are handed back as they came.
    pub(crate) fn encodes_to(&self, v: &Value) -> bool {
        match v {
            Value::Object(map) => self.matches(map, false, &mut String::new()),
            _ => false,
        }
    }

    /// Whether `map` is [`emit`](Self::emit)'s output; `key` is scratch space.
    fn matches(&self, map: &Map<String, Value>, include_self: bool, key: &mut String) -> bool {
        let mut entries = 0;
        if include_self && !(self.members.is_empty() && self.children.is_empty()) {
            if !matches!(map.get("."), Some(Value::Object(m)) if m.is_empty()) {
                return false;
            }
            entries += 1;
        }
        // The same side-by-side walk as `emit`.
        let mut children = self.children.iter().peekable();
        for m in &self.members {
            while let Some((pe, c)) = children.next_if(|(pe, _)| pe < m) {
                if !entry_matches(map, pe, Some(c), false, key) {
                    return false;
                }
                entries += 1;
            }
            let child = children.next_if(|(pe, _)| pe == m).map(|(_, c)| c);
            if !entry_matches(map, m, child, true, key) {
                return false;
            }
            entries += 1;
        }
        for (pe, c) in children {
            if !entry_matches(map, pe, Some(c), false, key) {
                return false;
            }
            entries += 1;
        }
        entries == map.len()
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        // Collected first and built in one go: cheaper than inserting key by key.
        let mut out: Vec<(String, Value)> =
            Vec::with_capacity(self.members.len() + self.children.len() + 1);
        if include_self && !(self.members.is_empty() && self.children.is_empty()) {
            out.push((".".to_owned(), Value::Object(Map::new())));
        }
        // Members and children are both sorted: walk them side by side.
        let mut children = self.children.iter().peekable();
        for m in &self.members {
            while let Some((pe, c)) = children.next_if(|(pe, _)| pe < m) {
                out.push((pe.to_fields_v1_key(), Value::Object(c.emit(false))));
            }
            match children.next_if(|(pe, _)| pe == m) {
                Some((_, c)) => out.push((m.to_fields_v1_key(), Value::Object(c.emit(true)))),
                None => out.push((m.to_fields_v1_key(), Value::Object(Map::new()))),
            }
        }
        for (pe, c) in children {
            out.push((pe.to_fields_v1_key(), Value::Object(c.emit(false))));
        }
        out.into_iter().collect()
    }
}

/// Whether `map` has `emit`'s entry for step `pe`: `{}` for a member without a
/// subtree, else the subtree's trie (with `"."` when `member`).
fn entry_matches(
    map: &Map<String, Value>,
    pe: &PathElement,
    child: Option<&FieldSet>,
    member: bool,
    key: &mut String,
) -> bool {
    key.clear();
    pe.write_fields_v1_key(key);
    match (map.get(key.as_str()), child) {
        (Some(Value::Object(inner)), Some(child)) => child.matches(inner, member, key),
        (Some(Value::Object(inner)), None) => inner.is_empty(),
        _ => false,
    }
}

/// How `pe` orders against the field step `name` (fields sort before other steps).
fn cmp_field(pe: &PathElement, name: &str) -> std::cmp::Ordering {
    match pe {
        PathElement::Field(f) => f.as_str().cmp(name),
        _ => std::cmp::Ordering::Greater,
    }
}

/// Reads one level of a `fieldsV1` trie: the set below it (None when it has no
/// entries) and whether the level itself is a member (`"."`, or no entries at all).
fn read_trie(map: &Map<String, Value>) -> Result<(Option<FieldSet>, bool), String> {
    let mut is_member = false;
    let mut any = false;
    // Sized for the usual shapes: every key a member, the non-empty ones subtrees.
    let subtrees = map
        .values()
        .filter(|v| matches!(v, Value::Object(m) if !m.is_empty()))
        .count();
    let mut members: Vec<PathElement> = Vec::with_capacity(map.len());
    let mut children: Vec<(PathElement, FieldSet)> = Vec::with_capacity(subtrees);
    for (key, value) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let pe = match PathElement::from_fields_v1_key(key) {
            Ok(Some(pe)) => pe,
            Ok(None) => continue,
            Err(e) => return Err(format!("parsing key as path element: {e}")),
        };
        let (grandchildren, child_is_member) = match value {
            Value::Object(inner) => read_trie(inner)?,
            Value::Null => (None, true),
            other => {
                return Err(format!(
                    "expected an object for {}, got {other}",
                    serde_json::to_string(key).unwrap_or_default()
                ));
            }
        };
        any = true;
        match grandchildren {
            Some(g) => {
                if child_is_member {
                    members.push(pe.clone());
                }
                children.push((pe, g));
            }
            None if child_is_member => members.push(pe),
            None => {}
        }
    }
    if !any {
        return Ok((None, true));
    }
    // Keys are in text order, steps are not (`i:` sorts after `k:`, `v:1` and `v:1.0`
    // are one step): sort, keeping the first of equal steps and merging their
    // subtrees in key order, as inserting them one by one would.
    members.sort();
    members.dedup();
    children.sort_by(|a, b| a.0.cmp(&b.0));
    children.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1.union_with(std::mem::take(&mut later.1));
        }
        same
    });
    Ok((Some(FieldSet { members, children }), is_member))
}

#[derive(Clone, Copy)]
enum Pick {
    Union,
    Both,
    Left,
}

/// Merges two sorted, duplicate-free slices.
fn merge_sorted<T: Clone>(
    a: &[T],
    b: &[T],
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
    pick: Pick,
) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match cmp(&a[i], &b[j]) {
            std::cmp::Ordering::Less => {
                if matches!(pick, Pick::Union | Pick::Left) {
                    out.push(a[i].clone());
                }
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                if matches!(pick, Pick::Union) {
                    out.push(b[j].clone());
                }
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if matches!(pick, Pick::Union | Pick::Both) {
                    out.push(a[i].clone());
                }
                i += 1;
                j += 1;
            }
        }
    }
    if matches!(pick, Pick::Union | Pick::Left) {
        out.extend_from_slice(&a[i..]);
    }
    if matches!(pick, Pick::Union) {
        out.extend_from_slice(&b[j..]);
    }
    out
}

/// Merges two sorted, duplicate-free vectors, keeping `a`'s element of equal pairs.
fn merge_owned<T: Ord>(a: Vec<T>, b: Vec<T>, on_equal: impl FnMut(&mut T, T)) -> Vec<T> {
    merge_owned_by(a, b, T::cmp, on_equal)
}

/// [`merge_owned`] by a comparison; `on_equal` folds `b`'s element of an equal pair
/// into `a`'s.
fn merge_owned_by<T>(
    a: Vec<T>,
    b: Vec<T>,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
    mut on_equal: impl FnMut(&mut T, T),
) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let order = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => cmp(x, y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => break,
        };
        match order {
            std::cmp::Ordering::Less => out.extend(a.next()),
            std::cmp::Ordering::Greater => out.extend(b.next()),
            std::cmp::Ordering::Equal => {
                if let (Some(mut x), Some(y)) = (a.next(), b.next()) {
                    on_equal(&mut x, y);
                    out.push(x);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> FieldSet {
        let v: Value = serde_json::from_str(s).unwrap_or(Value::Null);
        FieldSet::from_fields_v1(&v).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// The `fieldsV1` text with keys in upstream's order (serde_json's map may sort
    /// differently, so the trie is printed by walking it in set order).
    fn print(s: &FieldSet) -> String {
        fn level(s: &FieldSet, include_self: bool, out: &mut String) {
            out.push('{');
            let mut first = true;
            let mut sep = |out: &mut String| {
                if !first {
                    out.push(',');
                }
                first = false;
            };
            if include_self && !(s.members.is_empty() && s.children.is_empty()) {
                sep(out);
                out.push_str(r#"".":{}"#);
            }
            let mut entries: Vec<(&PathElement, Option<&FieldSet>)> = Vec::new();
            for m in &s.members {
                if s.child(m).is_none() {
                    entries.push((m, None));
                }
            }
            for (pe, c) in &s.children {
                entries.push((pe, Some(c)));
            }
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (pe, c) in entries {
                sep(out);
                // Upstream writes the whole document as Go does, keys included.
                crate::apply::gojson::write_string(out, &pe.to_fields_v1_key());
                out.push(':');
                match c {
                    None => out.push_str("{}"),
                    Some(c) => level(c, s.has_member(pe), out),
                }
            }
            out.push('}');
        }
        let mut out = String::new();
        level(s, false, &mut out);
        out
    }

    #[test]
    fn fields_v1_round_trips() {
        // Each row is a fieldsV1 document that must print back byte for byte.
        let rows = [
            // structured-merge-diff's TestSerializeV1GoldenData, first example: every
            // kind of step at one level, in upstream's order.
            r#"{"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},"k:{\"name\":\"first\"}":{},"k:{\"name\":\"second\"}":{},"k:{\"port\":443,\"protocol\":\"tcp\"}":{},"k:{\"port\":443,\"protocol\":\"udp\"}":{},"v:1":{},"v:2":{},"v:3":{},"v:\"aa\"":{},"v:\"ab\"":{},"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}}"#,
            // A map-list item owned itself and through its fields ("." marker).
            r#"{"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{}}}}}"#,
            // A key of several fields, sorted by field name.
            r#"{"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}"#,
            // Set items of each scalar type, numbers first, then strings, then booleans.
            r#"{"f:s":{"v:-1":{},"v:2.5":{},"v:3":{},"v:\"x\"":{},"v:false":{},"v:true":{}}}"#,
            // Escaping: quotes inside keys, HTML characters as Go writes them.
            r#"{"f:a\"b":{},"f:labels":{"f:x\u003cy":{}},"k:{\"name\":\"a\\\"b\\u0026c\"}":{}}"#,
            // The empty set.
            r#"{}"#,
        ];
        for row in rows {
            assert_eq!(print(&parse(row)), row);
        }
    }

    #[test]
    fn to_fields_v1_builds_the_trie() {
        let s = parse(r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{}}}"#);
        assert_eq!(
            s.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}}})
        );
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn unknown_step_kinds_are_dropped() {
        // Mirrors TestDropUnknown; a level whose only entries are unknown is a member.
        assert_eq!(
            print(&parse(r#"{"f:aaa":{},"r:aab":{}}"#)),
            r#"{"f:aaa":{}}"#
        );
        assert_eq!(print(&parse(r#"{"f:a":{"r:x":{}}}"#)), r#"{"f:a":{}}"#);
    }

    #[test]
    fn malformed_fields_v1_is_invalid() {
        let rows = [
            json!({"x": {}}),      // key without a kind
            json!({"f:a": 1}),     // not an object below a key
            json!({"k:{bad": {}}), // key JSON broken
            json!(["f:a"]),        // not a trie
        ];
        for v in rows {
            assert!(FieldSet::from_fields_v1(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn set_algebra_matches_upstream() {
        let a = parse(r#"{"f:a":{},"f:b":{"f:c":{},"f:d":{}},"f:e":{".":{},"f:f":{}}}"#);
        let b = parse(r#"{"f:b":{"f:c":{}},"f:e":{},"f:g":{}}"#);
        // Rows: operation, expected trie.
        let rows = [
            (
                a.union(&b),
                r#"{"f:a":{},"f:b":{"f:c":{},"f:d":{}},"f:e":{".":{},"f:f":{}},"f:g":{}}"#,
            ),
            (a.intersection(&b), r#"{"f:b":{"f:c":{}},"f:e":{}}"#),
            // Difference keeps what lies below a removed member.
            (
                a.difference(&b),
                r#"{"f:a":{},"f:b":{"f:d":{}},"f:e":{"f:f":{}}}"#,
            ),
            // Recursive difference removes it too.
            (a.recursive_difference(&b), r#"{"f:a":{},"f:b":{"f:d":{}}}"#),
        ];
        for (got, want) in rows {
            assert_eq!(print(&got), want);
        }
        assert!(a.difference(&a).is_empty());
        assert!(a.has(&Path::fields(&["e", "f"]).0));
        assert!(!a.has(&Path::fields(&["b"]).0));
    }

    #[test]
    fn paths_iterate_members_before_children() {
        let s = parse(r#"{"f:spec":{"f:a":{},"f:z":{"f:x":{}}},"f:x":{}}"#);
        let printed: Vec<String> = s.paths().iter().map(ToString::to_string).collect();
        assert_eq!(printed, [".x", ".spec.a", ".spec.z.x"]);
    }
}
