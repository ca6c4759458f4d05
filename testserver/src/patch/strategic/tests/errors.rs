//! Every way a patch fails: the whole message (upstream's where clients see it) and the
//! status code kube-apiserver answers with.

use serde_json::{Value, json};

use super::{apply, merge_item_schema};

/// One failing case: original, patch, the whole message, the status code.
type ErrorRow = (&'static str, Value, Value, &'static str, u16);

#[test]
fn invalid_patches_fail_with_upstreams_message_and_status() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<ErrorRow> = vec![
        // A patch that is a list, not an object: the decoder's 400.
        (
            "array patch",
            json!({}),
            json!([{"name": 1}]),
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
            400,
        ),
        // Same for a string.
        (
            "string patch",
            json!({}),
            json!("x"),
            "json: cannot unmarshal string into Go value of type map[string]interface {}",
            400,
        ),
        // Same for a number.
        (
            "number patch",
            json!({}),
            json!(1),
            "json: cannot unmarshal number into Go value of type map[string]interface {}",
            400,
        ),
        // `$patch: merge` on an object is unknown upstream (only a struct tag).
        (
            "$patch: merge in an object",
            json!({"name": "a"}),
            json!({"$patch": "merge", "name": "b"}),
            "unknown patch type: merge in map: map[$patch:merge name:b]",
            500,
        ),
        // Any other `$patch` value on an object.
        (
            "$patch: bogus in an object",
            json!({"simpleMap": {"a": "b"}}),
            json!({"simpleMap": {"$patch": "bogus"}}),
            "unknown patch type: bogus in map: map[$patch:bogus]",
            500,
        ),
        // A non-string `$patch` value.
        (
            "$patch: 1 in an object",
            json!({}),
            json!({"$patch": 1}),
            "unknown patch type: %!s(int64=1) in map: map[$patch:1]",
            500,
        ),
        // `$patch: merge` as a list item.
        (
            "$patch: merge in a list",
            json!({"mergingList": [{"name": "a"}]}),
            json!({"mergingList": [{"$patch": "merge"}]}),
            "merging lists cannot yet be specified in the patch",
            500,
        ),
        // Any other `$patch` value as a list item.
        (
            "$patch: bogus in a list",
            json!({"mergingList": [{"name": "a"}]}),
            json!({"mergingList": [{"$patch": "bogus", "name": "a"}]}),
            "unknown patch type: bogus in map: map[$patch:bogus name:a]",
            500,
        ),
        // A merge-list item without its key.
        (
            "missing merge key should error out",
            json!({"mergingList": [{"name": 1, "value": "a"}]}),
            json!({"mergingList": [{"value": "b"}]}),
            "map: map[value:b] does not contain declared merge key: name",
            500,
        ),
        // A delete item without its key.
        (
            "delete item without merge key",
            json!({"mergingList": [{"name": 1}]}),
            json!({"mergingList": [{"$patch": "delete", "value": "b"}]}),
            "map: map[$patch:delete value:b] does not contain declared merge key: name",
            500,
        ),
        // `$deleteFromPrimitiveList` must name its list.
        (
            "$deleteFromPrimitiveList without a field",
            json!({"mergingIntList": [1]}),
            json!({"$deleteFromPrimitiveList": [1]}),
            "invalid patch format of primitive list",
            400,
        ),
        // ...with exactly that prefix.
        (
            "$deleteFromPrimitiveListX/field",
            json!({"mergingIntList": [1]}),
            json!({"$deleteFromPrimitiveListX/mergingIntList": [1]}),
            "invalid patch format of primitive list",
            400,
        ),
        // `$setElementOrder` must name its list.
        (
            "$setElementOrder without a field",
            json!({"mergingIntList": [1]}),
            json!({"$setElementOrder": [1]}),
            "invalid patch format of setElementOrder list",
            400,
        ),
        // `$setElementOrder` must be a list.
        (
            "$setElementOrder that is not a list",
            json!({"mergingIntList": [1]}),
            json!({"$setElementOrder/mergingIntList": "x"}),
            "expected a []interface {}, but received a string",
            500,
        ),
        // ...and so must the patch list beside it.
        (
            "patch list beside $setElementOrder that is not a list",
            json!({"mergingIntList": [1]}),
            json!({"$setElementOrder/mergingIntList": [1], "mergingIntList": {"a": 1}}),
            "expected a []interface {}, but received a map[string]interface {}",
            500,
        ),
        // `$setElementOrder` of a field the type lacks.
        (
            "$setElementOrder of an unknown field",
            json!({}),
            json!({"$setElementOrder/bogus": [1]}),
            "unable to find api field in struct MergeItem for the json field \"bogus\"",
            500,
        ),
        // `$setElementOrder` of a field that is not a list.
        (
            "$setElementOrder of a map field",
            json!({}),
            json!({"$setElementOrder/simpleMap": ["a"]}),
            "expected slice or array type, but got: struct",
            500,
        ),
        // ...and when the original holds that field, its value is checked first.
        (
            "$setElementOrder of a map value",
            json!({"simpleMap": {"a": "b"}}),
            json!({"$setElementOrder/simpleMap": ["a"]}),
            "expected a []interface {}, but received a map[string]interface {}",
            500,
        ),
        // `$setElementOrder` of an empty list.
        (
            "$setElementOrder of lists empty on both sides",
            json!({"mergingList": []}),
            json!({"$setElementOrder/mergingList": [], "mergingList": []}),
            "no elements in any of the given slices",
            500,
        ),
        // The patch list out of the order list's order, rendered as upstream renders it.
        (
            "$setElementOrder contradicting the patch list",
            json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
            json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
            "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match \
             $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n",
            500,
        ),
        // `$retainKeys` must be a list.
        (
            "$retainKeys that is not a list",
            json!({"retainKeysMap": {"name": "a"}}),
            json!({"retainKeysMap": {"$retainKeys": "name"}}),
            "invalid patch format of retainKeys",
            400,
        ),
        // Every key the patch sets must be retained.
        (
            "$retainKeys not naming a patched key",
            json!({"retainKeysMap": {"name": "a"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name"], "value": "b"}}),
            "invalid patch format of retainKeys",
            400,
        ),
        // Objects in `$retainKeys` (upstream panics).
        (
            "$retainKeys holding an object",
            json!({"retainKeysMap": {"name": "a"}}),
            json!({"retainKeysMap": {"$retainKeys": [{"name": 1}]}}),
            "invalid patch format of retainKeys",
            400,
        ),
        // Lists of lists cannot merge: 422.
        (
            "list of lists in a merge list",
            json!({"mergingIntList": [[1]]}),
            json!({"mergingIntList": [[2]]}),
            "lists of lists are not supported",
            422,
        ),
        // Items of different types cannot merge.
        (
            "mixed item types in a merge list",
            json!({"mergingIntList": [1]}),
            json!({"mergingIntList": ["a"]}),
            "list element types are not identical: [[1] [a]]",
            500,
        ),
        // Integers and floats are different types, as upstream decodes them.
        (
            "int and float in a merge list",
            json!({"mergingIntList": [1]}),
            json!({"mergingIntList": [1.5]}),
            "list element types are not identical: [[1] [1.5]]",
            500,
        ),
        // A null first item (upstream panics).
        (
            "null item in a merge list",
            json!({"mergingIntList": [1]}),
            json!({"mergingIntList": [null]}),
            "list element types are not identical: [[1] [<nil>]]",
            500,
        ),
        // A scalar in a list merged by key.
        (
            "scalar item in a list merged by key",
            json!({"mergingList": []}),
            json!({"mergingList": ["a"]}),
            "expected a map[string]interface {}, but received a string",
            500,
        ),
        // Deleting objects from a list without a merge key.
        (
            "$deleteFromPrimitiveList on a list of objects without merge key",
            json!({"nonMergingList": [{"name": "a"}]}),
            json!({"$deleteFromPrimitiveList/nonMergingList": [{"name": "a"}]}),
            "cannot merge lists without merge key for struct",
            500,
        ),
        // Ordering objects without a merge key (upstream panics).
        (
            "$setElementOrder on a list of objects without merge key",
            json!({"nonMergingList": [{"name": "a"}]}),
            json!({"$setElementOrder/nonMergingList": [{"name": "a"}]}),
            "cannot order a list of objects or lists that has no merge key",
            500,
        ),
    ];
    let mut failures = Vec::new();
    for (name, original, patch, message, code) in rows {
        match apply(schema.cursor(root), &original, &patch) {
            Err(err) if err.to_string() == message && err.status_code() == code => {}
            Err(err) => failures.push(format!(
                "--- {name}\nexpected ({code}): {message:?}\ngot ({}): {:?}",
                err.status_code(),
                err.to_string()
            )),
            Ok(v) => failures.push(format!("--- {name}\nexpected an error, got {v}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn null_patch_changes_nothing() {
    let (schema, root) = merge_item_schema();
    let original = json!({"name": "a", "mergingList": [{"name": 1}]});
    let got = apply(schema.cursor(root), &original, &Value::Null);
    assert_eq!(got.ok(), Some(original));
}

#[test]
fn original_that_is_not_an_object_is_a_caller_bug() {
    let (schema, root) = merge_item_schema();
    let err = apply(schema.cursor(root), &json!([]), &json!({})).err();
    assert_eq!(
        err.map(|e| (e.status_code(), e.to_string())),
        Some((500, "the original object is not a json object".to_owned()))
    );
}

#[test]
fn nesting_past_the_limit_is_rejected_not_overflowed() {
    let (schema, root) = merge_item_schema();
    let mut deep = json!(1);
    for _ in 0..300 {
        deep = json!({"jsonItem": deep});
    }
    let err = apply(schema.cursor(root), &json!({}), &deep).err();
    assert_eq!(err.map(|e| e.status_code()), Some(400));
}

#[test]
fn nesting_at_the_limit_merges_within_a_test_threads_stack() {
    // Merge lists inside merge lists, each level an object and a list, up to the limit:
    // the deepest recursion the merge does, on a 2 MiB test thread in a debug build.
    let (schema, root) = merge_item_schema();
    let nest = |leaf: Value| {
        let mut v = leaf;
        for _ in 0..(super::super::MAX_DEPTH / 2 - 1) {
            v = json!({"name": "a", "mergingList": [v]});
        }
        v
    };
    let original = nest(json!({"name": "a", "value": "old"}));
    let patch = nest(json!({"name": "a", "value": "new"}));
    let want = nest(json!({"name": "a", "value": "new"}));
    assert_eq!(
        apply(schema.cursor(root), &original, &patch).ok(),
        Some(want)
    );
}

#[test]
fn unknown_dollar_keys_are_kept_for_the_decoder_to_judge() {
    // Upstream's merge keeps them; field validation then rejects (Strict), warns (Warn)
    // or drops (Ignore) them as unknown fields.
    let (schema, root) = merge_item_schema();
    let got = apply(
        schema.cursor(root),
        &json!({"name": "a"}),
        &json!({"$foo": "bar"}),
    )
    .ok();
    assert_eq!(got, Some(json!({"name": "a", "$foo": "bar"})));
}
