//! The fast paths of non-apply writes against the general algorithm, on random Pods
//! and Deployments, random edits of them and random histories of managers: the
//! object door (a create written in one walk, an update compared skipping equal
//! subtrees, unchanged `fieldsV1` handed back) must leave byte for byte what
//! `update_general` leaves, and each piece must agree with the walk it stands in for.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{NOW, deployments, pods};
use crate::apply::fieldmanager::FieldManager;
use crate::apply::merge::{compare, compare_objects};
use crate::apply::path::PathElement;
use crate::apply::typed::{Ty, is_valid_object, is_valid_object_beside, validate};
use crate::apply::{FieldSet, Path, Request, managed};
use crate::schema::{Cursor, Kind, ListType, Member, Scalar};

/// Choices read from a byte stream: proptest shrinks the stream (shorter, smaller
/// bytes) and with it what is built from it. Past its end every choice is 0, the
/// simplest one.
struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    /// A number below `n` (0 when `n` is 0).
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        if n == 0 { 0 } else { usize::from(b) % n }
    }

    /// True once in `n` (never past the end of the stream).
    fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == n - 1
    }

    fn of<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.pick(items.len())].clone()
    }
}

/// Map keys, label names and strings come from small pools, so that list items
/// collide, and edits often put back what was there.
const KEYS: &[&str] = &["a", "b", "app", "example.com/x"];
const STRINGS: &[&str] = &["a", "b", "", "TCP", "x<y&z"];

/// The types of a struct's fields, a map's values and a list's items.
fn member<'s>(ty: Cursor<'s>, name: &str) -> Option<Cursor<'s>> {
    match ty.member(name) {
        Member::Field(_, c) | Member::Value(c) => Some(c),
        Member::Untyped | Member::Unknown => None,
    }
}

/// A scalar of `ty` from a small pool; integers sometimes as floats (`1.0`), which
/// upstream's comparisons take as equal to the integer.
fn scalar(ty: Cursor<'_>, c: &mut Choices<'_>) -> Value {
    if ty.def().name.ends_with(".Quantity") {
        return json!(c.of(&["1", "250m", "1Gi"]));
    }
    match ty.kind() {
        Kind::Scalar { scalar, .. } => match scalar {
            Scalar::String => json!(c.of(STRINGS)),
            Scalar::Integer => c.of(&[json!(0), json!(1), json!(80), json!(443), json!(1.0)]),
            Scalar::Number => c.of(&[json!(0.5), json!(1), json!(1.0), json!(2)]),
            Scalar::Boolean => json!(c.pick(2) == 1),
        },
        Kind::IntOrString => c.of(&[json!(1), json!("1"), json!("a")]),
        _ => c.of(&[
            json!({"a": 1}),
            json!([1, 2]),
            json!("s"),
            json!({"a": {"b": null}}),
        ]),
    }
}

/// A value of `ty`: a few fields, items and keys; now and then null, or of a shape
/// the type does not take (the fast paths then fall back, and must still agree).
fn value(ty: Cursor<'_>, c: &mut Choices<'_>, depth: usize) -> Value {
    match c.pick(160) {
        159 => return Value::Null,
        158 => return c.of(&[json!("x"), json!(1), json!([1]), json!({"zzz": 1})]),
        _ => {}
    }
    match ty.kind() {
        Kind::Struct { fields, .. } if !ty.def().name.ends_with(".Quantity") => {
            let mut m = Map::new();
            let n = if depth < 5 { c.pick(4) } else { 0 };
            for _ in 0..n {
                let f = &fields[c.pick(fields.len())];
                if let Some(fc) = member(ty, &f.name) {
                    m.insert(f.name.clone(), value(fc, c, depth + 1));
                }
            }
            Value::Object(m)
        }
        Kind::Map { .. } => {
            let mut m = Map::new();
            if let Some(vc) = member(ty, "") {
                for _ in 0..c.pick(3) {
                    m.insert(c.of(KEYS).to_owned(), value(vc, c, depth + 1));
                }
            }
            Value::Object(m)
        }
        Kind::List { .. } => {
            let Some(items) = ty.items() else {
                return json!([]);
            };
            let n = if depth < 6 { c.pick(4) } else { 0 };
            Value::Array((0..n).map(|_| item(ty, items, c, depth)).collect())
        }
        _ => scalar(ty, c),
    }
}

/// An item of list `list`: map-list items get their key fields from small pools
/// (and now and then lack one).
fn item(list: Cursor<'_>, items: Cursor<'_>, c: &mut Choices<'_>, depth: usize) -> Value {
    match list.list_type() {
        Some(ListType::Map(keys)) => {
            let mut v = value(items, c, depth + 1);
            if let Value::Object(m) = &mut v {
                for key in keys {
                    if c.one_in(12) {
                        continue;
                    }
                    if let Some(kc) = member(items, key) {
                        m.insert(key.clone(), scalar(kc, c));
                    }
                }
            }
            v
        }
        Some(ListType::Set) => scalar(items, c),
        _ => value(items, c, depth + 1),
    }
}

/// A random object of the root type; `uid` set when it exists already.
fn object(root: Cursor<'_>, api_version: &str, kind: &str, c: &mut Choices<'_>) -> Value {
    let mut obj = Map::new();
    for field in ["metadata", "spec", "status"] {
        if let Some(fc) = member(root, field)
            && (field == "metadata" || c.pick(3) > 0)
        {
            // Wider at the top, so that objects have some substance.
            let mut v = value(fc, c, 1);
            if let Value::Object(m) = &mut v {
                for _ in 0..c.pick(4) {
                    if let Kind::Struct { fields, .. } = fc.kind() {
                        let f = &fields[c.pick(fields.len())];
                        if let Some(sub) = member(fc, &f.name) {
                            m.insert(f.name.clone(), value(sub, c, 2));
                        }
                    }
                }
            }
            obj.insert(field.to_owned(), v);
        }
    }
    // Most Pods have containers; give them some, with names from the pool.
    let path: &[&str] = match kind {
        "Deployment" => &["spec", "template", "spec", "containers"],
        _ => &["spec", "containers"],
    };
    let list = path.iter().try_fold(root, |at, step| member(at, step));
    if c.pick(3) > 0
        && let Some(list) = list
        && let Some(items) = list.items()
    {
        let n = 1 + c.pick(3);
        let containers: Vec<Value> = (0..n).map(|_| item(list, items, c, 3)).collect();
        put(&mut obj, path, Value::Array(containers));
    }
    if !c.one_in(20) {
        obj.insert("apiVersion".into(), json!(api_version));
    }
    if !c.one_in(20) {
        obj.insert("kind".into(), json!(kind));
    }
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        meta.insert("name".into(), json!("obj"));
        meta.remove("managedFields");
    }
    Value::Object(obj)
}

/// Sets `v` at `path` in `obj`, making the objects on the way.
fn put(obj: &mut Map<String, Value>, path: &[&str], v: Value) {
    match path {
        [] => {}
        [last] => {
            obj.insert((*last).to_owned(), v);
        }
        [first, rest @ ..] => {
            let entry = obj.entry(*first).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            if let Value::Object(m) = entry {
                put(m, rest, v);
            }
        }
    }
}

/// `v` (of type `ty`) with a few random edits: values replaced, members and items
/// removed, added or swapped.
fn edit(ty: Option<Cursor<'_>>, v: &mut Value, c: &mut Choices<'_>, depth: usize) {
    let Some(ty) = ty else {
        if c.one_in(3) {
            *v = json!("edited");
        }
        return;
    };
    match (c.pick(6), &mut *v) {
        (0..=2, _) => {}
        (3, _) => *v = value(ty, c, depth),
        (_, Value::Object(m)) => {
            let key = match ty.kind() {
                Kind::Struct { fields, .. } if !m.is_empty() && c.pick(2) == 0 => {
                    fields[c.pick(fields.len())].name.clone()
                }
                _ if !m.is_empty() => {
                    let keys: Vec<&String> = m.keys().collect();
                    keys[c.pick(keys.len())].clone()
                }
                _ => c.of(KEYS).to_owned(),
            };
            let child = member(ty, &key);
            match (c.pick(4), m.get_mut(&key)) {
                (0, Some(_)) => {
                    m.remove(&key);
                }
                (_, Some(inner)) => edit(child, inner, c, depth + 1),
                (_, None) => {
                    if let Some(child) = child {
                        m.insert(key, value(child, c, depth + 1));
                    }
                }
            }
        }
        (_, Value::Array(list)) => {
            let Some(items) = ty.items() else { return };
            match c.pick(4) {
                0 if !list.is_empty() => {
                    list.remove(c.pick(list.len()));
                }
                1 => list.push(item(ty, items, c, depth)),
                2 if list.len() > 1 => list.swap(0, 1),
                _ if !list.is_empty() => {
                    let i = c.pick(list.len());
                    edit(Some(items), &mut list[i], c, depth + 1);
                }
                _ => {}
            }
        }
        _ => *v = value(ty, c, depth),
    }
}

/// Perturbs a `fieldsV1` trie into one that decodes to the same or a similar set but
/// is not what encoding writes (so it must not be handed back as is).
fn mangle(fields: &mut Value, c: &mut Choices<'_>) {
    let Value::Object(m) = fields else { return };
    let keys: Vec<String> = m.keys().cloned().collect();
    match c.pick(7) {
        0 => {
            m.insert("r:unknown".into(), json!({}));
        }
        1 => {
            m.insert("f:extra".into(), json!({}));
        }
        2 if !keys.is_empty() => {
            m.insert(keys[c.pick(keys.len())].clone(), Value::Null);
        }
        3 => {
            m.insert(".".into(), json!({}));
        }
        4 if !keys.is_empty() => {
            let k = &keys[c.pick(keys.len())];
            if let Some(Value::Object(inner)) = m.get_mut(k) {
                inner.insert(".".into(), json!({}));
            }
        }
        5 if !keys.is_empty() => {
            let k = keys[c.pick(keys.len())].clone();
            if let Some(inner) = m.get_mut(&k) {
                mangle(inner, c);
            }
        }
        _ => {
            m.insert(r#"v:1.0"#.into(), json!({}));
        }
    }
}

/// What the client sends as `managedFields` with its edit of `old`.
fn sent_managed_fields(old: &Value, new: &mut Value, c: &mut Choices<'_>) {
    let Some(Value::Object(meta)) = new.get_mut("metadata") else {
        return;
    };
    match c.pick(8) {
        // As read (the edit copied them), the usual case.
        0..=2 => {}
        3 => {
            meta.remove("managedFields");
        }
        4 => {
            meta.insert("managedFields".into(), c.of(&[json!([]), json!([{}])]));
        }
        5 => {
            meta.insert(
                "managedFields".into(),
                c.of(&[json!([{"manager": "x"}]), json!("nope"), json!([1])]),
            );
        }
        _ => {
            let mut list = old
                .pointer("/metadata/managedFields")
                .cloned()
                .unwrap_or_else(|| json!([]));
            if let Value::Array(entries) = &mut list
                && !entries.is_empty()
            {
                let i = c.pick(entries.len());
                if let Some(fields) = entries[i].get_mut("fieldsV1") {
                    mangle(fields, c);
                }
            }
            meta.insert("managedFields".into(), list);
        }
    }
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.remove("managedFields");
    }
    v
}

/// The pieces agree with the walks they stand in for, on `live` and `new`.
fn check_pieces(root: Cursor<'_>, live: &Value, new: &Value) -> Result<(), TestCaseError> {
    let ty = Ty::Schema(root);
    let (Some(l), Some(n)) = (live.as_object(), new.as_object()) else {
        return Ok(());
    };
    let valid = |v: &Value| validate(ty, &without_managed_fields(v), true).is_empty();
    prop_assert_eq!(is_valid_object(ty, l), valid(live));
    prop_assert_eq!(is_valid_object(ty, n), valid(new));
    if valid(new) {
        prop_assert_eq!(is_valid_object_beside(ty, l, n), valid(live));
    }
    if valid(live) && valid(new) {
        let mut n_typed = n.clone();
        if let Some(Value::Object(meta)) = n_typed.get_mut("metadata") {
            meta.remove("managedFields");
        }
        let want = compare(
            ty,
            &without_managed_fields(live),
            &without_managed_fields(new),
        );
        prop_assert_eq!(compare_objects(ty, l, &n_typed), want);
    }
    // A decoded set encodes to a trie exactly when it is that set's encoding.
    for owner in [live, new] {
        let Some(list) = owner.pointer("/metadata/managedFields") else {
            continue;
        };
        let Ok(decoded) = managed::decode(Some(list)) else {
            continue;
        };
        let tries: Vec<&Value> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("fieldsV1"))
            .collect();
        for vs in decoded.fields.values() {
            for trie in &tries {
                prop_assert_eq!(vs.set.encodes_to(trie), vs.set.to_fields_v1() == **trie);
            }
        }
    }
    Ok(())
}

/// One write through both doors: the same result and the same object.
fn check_update(
    root: Cursor<'_>,
    req: &Request<'_>,
    old: Option<&Value>,
    new: &Value,
) -> Result<Value, TestCaseError> {
    let fm = FieldManager::new(root, req).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut fast = new.clone();
    let got = fm.update(old, &mut fast);
    let mut general = new.clone();
    let want = fm.update_general(old, &mut general);
    prop_assert_eq!(&got, &want, "old: {:?}\nnew: {}", old, new);
    prop_assert_eq!(&fast, &general, "old: {:?}\nnew: {}", old, new);
    // The store's door: the old object's managed fields taken out and given away.
    if let (Some(Value::Object(old_map)), Value::Object(new_map)) = (old, new) {
        let mut old_map = old_map.clone();
        let old_managed = old_map
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.remove("managedFields"));
        let mut moved = new_map.clone();
        let got = fm.update_object_from(&old_map, old_managed, &mut moved);
        prop_assert_eq!(&got, &want, "old: {:?}\nnew: {}", old, new);
        prop_assert_eq!(
            &Value::Object(moved),
            &general,
            "old: {:?}\nnew: {}",
            old,
            new
        );
    }
    Ok(fast)
}

const MANAGERS: &[&str] = &["a", "b", "", "kubectl"];
const TIMES: &[&str] = &[NOW, "2025-01-02T03:04:06.5+01:00", "2025-01-02T02:00:00Z"];

/// A create and a few writes of random managers to a random object of `root`,
/// each checked through both doors.
fn run_history(
    root: Cursor<'_>,
    api_version: &str,
    kind: &str,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let c = &mut Choices { bytes, at: 0 };
    let status = FieldSet::from_paths([&Path::fields(&["status"])]);
    let workload = FieldSet::from_paths([
        &Path::fields(&["spec"]),
        &Path::fields(&["metadata", "labels"]),
    ]);
    // Reset sets naming list items, and fields of them (no strategy has such, but the
    // walks must still leave them out as the set algebra does).
    let item = |name: &str| PathElement::key(vec![("name".to_owned(), json!(name))]);
    let containers = |name: &str, more: &[&str]| {
        let mut p = Path::fields(&["spec", "containers"]).0;
        if kind == "Deployment" {
            p = Path::fields(&["spec", "template", "spec", "containers"]).0;
        }
        p.push(item(name));
        p.extend(more.iter().map(|f| PathElement::field(f)));
        Path(p)
    };
    let items = FieldSet::from_paths([
        &containers("a", &[]),
        &containers("b", &["name"]),
        &Path(vec![
            PathElement::field("metadata"),
            PathElement::field("finalizers"),
            PathElement::Value(json!("a")),
        ]),
    ]);
    let mut obj = object(root, api_version, kind, c);
    // Now and then a client sends managed fields with its create.
    if c.one_in(6)
        && let Some(Value::Object(meta)) = obj.get_mut("metadata")
    {
        meta.insert(
            "managedFields".into(),
            json!([{"manager": "m", "operation": "Update", "apiVersion": api_version,
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:name": {}}}}]),
        );
    }
    let mut old: Option<Value> = None;
    for step in 0..4 {
        let reset = c.of(&[None, Some(&status), Some(&workload), Some(&items)]);
        let req = Request {
            manager: c.of(MANAGERS),
            api_version,
            kind,
            subresource: if c.one_in(5) { "status" } else { "" },
            now: c.of(TIMES),
            reset_fields: reset,
        };
        let mut new = match &old {
            None => obj.clone(),
            Some(live) => {
                let mut new = live.clone();
                for _ in 0..=c.pick(3) {
                    edit(Some(root), &mut new, c, 0);
                }
                sent_managed_fields(live, &mut new, c);
                new
            }
        };
        if step > 0 && c.one_in(8) {
            // An update of an object with a uid and nobody tracking it.
            if let Some(Value::Object(meta)) = new.get_mut("metadata") {
                meta.insert("uid".into(), json!("u"));
            }
        }
        if let Some(live) = &old {
            check_pieces(root, live, &new)?;
        }
        let written = check_update(root, &req, old.as_ref(), &new)?;
        // Now and then an apply, so that appliers own fields too.
        if c.one_in(4) {
            let mut config = object(root, api_version, kind, c);
            if let Some(Value::Object(meta)) = config.get_mut("metadata") {
                meta.remove("uid");
            }
            let apply_req = Request {
                manager: "applier",
                ..req
            };
            if let Ok(applied) =
                crate::apply::apply(root, Some(&written), &config, true, &apply_req)
            {
                new = applied;
            } else {
                new = written;
            }
        } else {
            new = written;
        }
        if let Some(Value::Object(meta)) = new.get_mut("metadata") {
            meta.insert("uid".into(), json!("u"));
        }
        old = Some(new);
    }
    // The value door and the map door (the one `Store` takes) agree.
    if let (Some(live @ Value::Object(live_map)), Value::Object(mut created)) = (&old, obj.clone())
    {
        let req = Request {
            manager: "a",
            api_version,
            kind,
            subresource: "",
            now: NOW,
            reset_fields: Some(&status),
        };
        let mut via_value = Value::Object(created.clone());
        let a = crate::apply::update(root, Some(live), &mut via_value, &req);
        let b = crate::apply::update_object(root, Some(live_map), &mut created, &req);
        prop_assert_eq!(a, b);
        prop_assert_eq!(via_value, Value::Object(created));
    }
    Ok(())
}

proptest! {
    /// Creates and updates of random Pods by random managers leave exactly what the
    /// general algorithm leaves.
    #[test]
    fn pod_writes_track_managed_fields_as_the_general_algorithm(
        bytes in prop::collection::vec(any::<u8>(), 0..600)
    ) {
        run_history(pods(), "v1", "Pod", &bytes)?;
    }

    /// The same for Deployments (selectors, templates, strategies).
    #[test]
    fn deployment_writes_track_managed_fields_as_the_general_algorithm(
        bytes in prop::collection::vec(any::<u8>(), 0..600)
    ) {
        run_history(deployments(), "apps/v1", "Deployment", &bytes)?;
    }
}

#[test]
fn serde_json_maps_iterate_in_key_order() {
    // The compare walk reads two maps side by side, which needs serde_json's sorted
    // maps (its `preserve_order` feature off).
    let m: Map<String, Value> = [("b", 1), ("a", 2), ("c", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[test]
fn metadata_holding_only_managed_fields_compares_as_empty() {
    // Without its managed fields the live metadata is `{}`, as the new one is: nothing
    // changed there, so a manager owning `.metadata` itself keeps it.
    let entry = |manager: &str, fields: Value| {
        json!({"manager": manager, "operation": "Update", "apiVersion": "v1",
               "time": NOW, "fieldsType": "FieldsV1", "fieldsV1": fields})
    };
    let live = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"managedFields": [
            entry("m", json!({"f:metadata": {}, "f:spec": {"f:nodeName": {}}})),
            entry("w", json!({"f:spec": {"f:hostname": {}}})),
        ]},
        "spec": {"nodeName": "n", "hostname": "h"}
    });
    let mut new = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {},
        "spec": {"nodeName": "n", "hostname": "h2"}
    });
    let req = super::pod("w");
    let fm = FieldManager::new(pods(), &req).unwrap_or_else(|e| panic!("{e}"));
    let mut general = new.clone();
    fm.update_general(Some(&live), &mut general)
        .unwrap_or_else(|e| panic!("{e}"));
    fm.update(Some(&live), &mut new)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new, general);
    assert_eq!(
        new["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:metadata": {}, "f:spec": {"f:nodeName": {}}})
    );
}

#[test]
fn an_unchanged_entry_hands_back_its_fields_v1() {
    // The writer's own entry, unchanged by a write that changes a field it owns, is
    // the one it sent: same trie, new time.
    let req = super::pod("a");
    let mut obj = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "i:1"}]}
    });
    crate::apply::update(pods(), None, &mut obj, &req).unwrap_or_else(|e| panic!("{e}"));
    let sent = obj.pointer("/metadata/managedFields").cloned();
    let mut new = obj.clone();
    new["spec"]["containers"][0]["image"] = json!("i:2");
    let later = Request {
        now: "2025-01-02T04:00:00Z",
        ..req
    };
    crate::apply::update(pods(), Some(&obj), &mut new, &later).unwrap_or_else(|e| panic!("{e}"));
    let fields = |v: &Option<Value>| v.as_ref().map(|l| l[0]["fieldsV1"].clone());
    assert_eq!(
        fields(&new.pointer("/metadata/managedFields").cloned()),
        fields(&sent)
    );
    assert_eq!(
        new["metadata"]["managedFields"][0]["time"],
        json!("2025-01-02T04:00:00Z")
    );
    // A trie that decodes to the same set but is spelled otherwise is written anew.
    let set = managed::decode(sent.as_ref()).unwrap_or_default();
    for vs in set.fields.values() {
        let mut odd = vs.set.to_fields_v1();
        odd["f:metadata"]["r:unknown"] = json!({});
        assert!(!vs.set.encodes_to(&odd));
        assert!(vs.set.encodes_to(&vs.set.to_fields_v1()));
    }
}
