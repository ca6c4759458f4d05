use serde_json::json;

use crate::apply::typed::{Ty, format_errors, to_field_set, validate};
use crate::schema::build::Builder;
use crate::schema::{ListType, Schema, TypeId};

/// A type with a field of every kind the merge semantics distinguish.
fn kinds_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let s = b.string();
    let i = b.integer();
    let atomic_list = b.list(s, ListType::Atomic);
    let set = b.list(s, ListType::Set);
    let item = b.structure(
        "Item",
        &[("name", s, None, None), ("value", i, None, None)],
        false,
    );
    let map_list = b.list(item, ListType::Map(vec!["name".into()]));
    let port = b.structure(
        "Port",
        &[
            ("port", i, None, None),
            ("protocol", s, None, None),
            ("name", s, None, None),
        ],
        false,
    );
    let multi = b.list(port, ListType::Map(vec!["port".into(), "protocol".into()]));
    let labels = b.map(s, false);
    let atomic_map = b.map(s, true);
    let selector = b.structure("Sel", &[("a", s, None, None), ("b", s, None, None)], true);
    let inner = b.structure(
        "Inner",
        &[("a", s, None, None), ("b", s, None, None)],
        false,
    );
    let untyped = b.untyped();
    let root = b.structure(
        "Obj",
        &[
            ("scalar", s, None, None),
            ("atomicList", atomic_list, None, None),
            ("set", set, None, None),
            ("mapList", map_list, None, None),
            ("multiKey", multi, None, None),
            ("labels", labels, None, None),
            ("atomicMap", atomic_map, None, None),
            ("atomicStruct", selector, None, None),
            ("struct", inner, None, None),
            ("untyped", untyped, None, None),
        ],
        false,
    );
    (b.schema, root)
}

#[test]
fn field_sets_follow_the_merge_semantics_of_each_type() {
    let (schema, root) = kinds_schema();
    let ty = Ty::Schema(schema.cursor(root));
    // Rows: object, its fieldsV1 (structured-merge-diff's toFieldSet; upstream's
    // TestToFieldSet cases restated for our kinds).
    let rows = vec![
        // A scalar is a leaf.
        (json!({"scalar": "x"}), json!({"f:scalar": {}})),
        // An atomic list is owned as a whole.
        (
            json!({"atomicList": ["a", "b"]}),
            json!({"f:atomicList": {}}),
        ),
        // A set: its items by value.
        (
            json!({"set": ["b", "a"]}),
            json!({"f:set": {"v:\"a\"": {}, "v:\"b\"": {}}}),
        ),
        // A map-list: items by key, owned themselves and through their fields.
        (
            json!({"mapList": [{"name": "a", "value": 1}]}),
            json!({"f:mapList": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}, "f:value": {}}}}),
        ),
        // Several key fields, sorted by name in the key.
        (
            json!({"multiKey": [{"protocol": "TCP", "port": 80}]}),
            json!({"f:multiKey": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}}}}),
        ),
        // A granular map: every key.
        (
            json!({"labels": {"app": "x", "tier": "y"}}),
            json!({"f:labels": {"f:app": {}, "f:tier": {}}}),
        ),
        // Atomic map and atomic struct: owned as a whole.
        (json!({"atomicMap": {"k": "v"}}), json!({"f:atomicMap": {}})),
        (
            json!({"atomicStruct": {"a": "x"}}),
            json!({"f:atomicStruct": {}}),
        ),
        // A granular struct: its fields, not itself.
        (
            json!({"struct": {"a": "x"}}),
            json!({"f:struct": {"f:a": {}}}),
        ),
        // An empty struct, and a null, are owned themselves.
        (json!({"struct": {}}), json!({"f:struct": {}})),
        (json!({"struct": null}), json!({"f:struct": {}})),
        // An empty granular list sets nothing upstream.
        (json!({"set": []}), json!({})),
        // Untyped JSON: maps granular, lists atomic (kube-openapi's deduced type);
        // undeclared keys are members even when they hold a map.
        (
            json!({"untyped": {"a": {"b": 1}, "c": [1, 2]}}),
            json!({"f:untyped": {"f:a": {".": {}, "f:b": {}}, "f:c": {}}}),
        ),
        // A set item named twice is owned as a whole, once.
        (
            json!({"set": ["a", "a", "b"]}),
            json!({"f:set": {"v:\"a\"": {}, "v:\"b\"": {}}}),
        ),
    ];
    for (obj, want) in rows {
        assert!(validate(ty, &obj, true).is_empty(), "{obj}");
        assert_eq!(to_field_set(ty, &obj).to_fields_v1(), want, "{obj}");
    }
}

#[test]
fn validation_errors_read_as_upstream() {
    let (schema, root) = kinds_schema();
    let ty = Ty::Schema(schema.cursor(root));
    // Rows: object, duplicates allowed, error text (typed.ValidationErrors.Error()).
    let rows = vec![
        (
            json!({"nope": 1}),
            false,
            ".nope: field not declared in schema",
        ),
        (
            json!({"mapList": [{"value": 1}]}),
            false,
            ".mapList: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)",
        ),
        (
            json!({"mapList": [{"name": "a"}, {"name": "a"}]}),
            false,
            ".mapList: duplicate entries for key [name=\"a\"]",
        ),
        (
            json!({"scalar": 1, "struct": {"zz": 1}}),
            false,
            "errors:\n  .scalar: expected string, got 1\n  .struct.zz: field not declared in schema",
        ),
        (
            json!({"set": [{"a": 1}]}),
            false,
            ".set: element 0: associative list without keys has an element that's a map type",
        ),
    ];
    for (obj, dups, want) in rows {
        assert_eq!(format_errors(&validate(ty, &obj, dups)), want, "{obj}");
    }
    // Duplicates are fine where allowed (live objects).
    assert!(
        validate(
            ty,
            &json!({"mapList": [{"name": "a"}, {"name": "a"}]}),
            true
        )
        .is_empty()
    );
}
