//! Upstream's apply cases (`k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go`),
//! on its `MergeItem` type. Each upstream case applies a two-way patch to `original` and a
//! three-way patch to `current`; a row here is one such application, named after the
//! upstream case (`/three-way` when it is the second). Values are upstream's; rows in
//! `unknown_and_untyped_fields_*` marked "we differ" are where upstream fails.

use serde_json::json;

use super::{Row, check, merge_item_schema};

#[test]
fn maps_merge_key_by_key_and_null_deletes() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<Row> = vec![
        // An empty original takes the patch.
        (
            "nil original",
            json!({}),
            json!({"name": 1, "value": 1}),
            Ok(json!({"name": 1, "value": 1})),
        ),
        // The patch adds to what the server already has.
        (
            "nil original/three-way",
            json!({"name": 1, "other": "a"}),
            json!({"value": 1}),
            Ok(json!({"name": 1, "value": 1, "other": "a"})),
        ),
        // An empty patch changes nothing.
        (
            "nil patch",
            json!({"name": 1}),
            json!({}),
            Ok(json!({"name": 1})),
        ),
        // A scalar in the patch replaces the server's.
        (
            "add field to map with conflict/three-way",
            json!({"name": "a", "other": "a"}),
            json!({"name": 1, "value": 1}),
            Ok(json!({"name": 1, "value": 1, "other": "a"})),
        ),
        // null deletes a key, others are added.
        (
            "add field and delete field from map/three-way",
            json!({"name": 1, "other": "a"}),
            json!({"name": null, "value": 1}),
            Ok(json!({"value": 1, "other": "a"})),
        ),
        // Nested maps merge; null deletes inside them.
        (
            "delete field from nested map with conflict/three-way",
            json!({"simpleMap": {"key1": "a", "key2": 1, "other": "a"}}),
            json!({"simpleMap": {"key1": 1, "key2": null}}),
            Ok(json!({"simpleMap": {"key1": 1, "other": "a"}})),
        ),
        // Deleting every key the patch names leaves the server's others.
        (
            "delete all fields from map/three-way",
            json!({"name": 1, "value": 1, "other": "a"}),
            json!({"name": null, "value": null}),
            Ok(json!({"other": "a"})),
        ),
        // A null for a key the original lacks is dropped, not stored.
        (
            "defined null values should propagate overwrite current fields (with conflict)/three-way",
            json!({"name": "a", "other": "a"}),
            json!({"name": 1, "value": 1, "other": null}),
            Ok(json!({"name": 1, "value": 1})),
        ),
        // Same, for a key missing from the original.
        (
            "defined null values should propagate overwrite current fields (with conflict)",
            json!({"name": 2}),
            json!({"name": 1, "value": 1, "other": null}),
            Ok(json!({"name": 1, "value": 1})),
        ),
        // Changing one key and deleting another.
        (
            "defined null values should propagate removing original fields/three-way",
            json!({"name": "original-name", "value": "original-value", "other": "current-other"}),
            json!({"name": "modified-name", "value": null}),
            Ok(json!({"name": "modified-name", "other": "current-other"})),
        ),
        // `$patch: delete` on a map leaves it empty (not absent).
        (
            "delete map from nested map",
            json!({"simpleMap": {"key1": 1, "key2": 1}}),
            json!({"simpleMap": {"$patch": "delete"}}),
            Ok(json!({"simpleMap": {}})),
        ),
        // `$patch: replace` at the top replaces the whole object.
        (
            "delete all keys from map",
            json!({"name": 1, "value": 1}),
            json!({"$patch": "replace"}),
            Ok(json!({})),
        ),
        // `$patch: replace` keeps what the patch object holds.
        (
            "add key and delete all keys from map",
            json!({"name": 1, "value": 1}),
            json!({"other": "a", "$patch": "replace"}),
            Ok(json!({"other": "a"})),
        ),
        // An empty retainKeys map in the patch changes nothing.
        (
            "nil patch with retainKeys map/three-way",
            json!({"name": "a", "value": "b", "retainKeysMap": {"name": "foo"}}),
            json!({}),
            Ok(json!({"name": "a", "value": "b", "retainKeysMap": {"name": "foo"}})),
        ),
    ];
    check(schema.cursor(root), rows);
}

#[test]
fn lists_merge_by_key_replace_or_union_by_strategy() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<Row> = vec![
        // A merge list of scalars is a set union.
        (
            "unique scalars when merging lists",
            json!({"mergingIntList": [1, 2]}),
            json!({"mergingIntList": [2, 3]}),
            Ok(json!({"mergingIntList": [1, 2, 3]})),
        ),
        // A list without merge strategy is replaced.
        (
            "replace list of scalars with conflict/three-way",
            json!({"nonMergingIntList": [1, 4]}),
            json!({"nonMergingIntList": [2, 3]}),
            Ok(json!({"nonMergingIntList": [2, 3]})),
        ),
        // Items merge by key; patch order wins for the items it names.
        (
            "preserve the order from the patch in a merging list",
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]}),
            Ok(json!({"mergingList": [
                {"name": 3, "value": "c"},
                {"name": 1, "value": "a"},
                {"name": 2, "value": "b", "other": "x"},
            ]})),
        ),
        // A server-only item keeps its place before the patch items it preceded.
        (
            "preserve the order from the patch in a merging list 2",
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
            Ok(json!({"mergingList": [
                {"name": 2, "value": "b"},
                {"name": 3, "value": "c"},
                {"name": 1, "value": "a"},
            ]})),
        ),
        // A set follows the patch's order.
        (
            "preserve the order from the patch in a merging int list",
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"mergingIntList": [3, 1, 2]}),
            Ok(json!({"mergingIntList": [3, 1, 2]})),
        ),
        // A set's server-only value keeps its place.
        (
            "preserve the order from the patch in a merging int list 2",
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"mergingIntList": [3, 1]}),
            Ok(json!({"mergingIntList": [2, 3, 1]})),
        ),
        // A new item goes ahead of the server-only items.
        (
            "merge lists of maps (patch list alone)",
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
            json!({"mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]}),
            Ok(json!({"mergingList": [
                {"name": 4, "value": 4},
                {"name": 3, "value": 3},
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]})),
        ),
        // An empty merge list merged with an empty list stays empty.
        (
            "merge empty merging lists",
            json!({"mergingList": []}),
            json!({"mergingList": []}),
            Ok(json!({"mergingList": []})),
        ),
        // `$patch: delete` items remove every item with their key.
        (
            "delete all duplicate entries in a merging list",
            json!({"mergingList": [{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]}),
            json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]}),
            Ok(json!({"mergingList": [{"name": 2, "value": "a"}]})),
        ),
        // Deleting every item leaves an empty list.
        (
            "delete all maps from merging list with conflict/three-way",
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "other": "b"}]}),
            json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]}),
            Ok(json!({"mergingList": []})),
        ),
        // Deleting from an empty list is fine.
        (
            "delete all maps from empty merging list/three-way",
            json!({"mergingList": []}),
            json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]}),
            Ok(json!({"mergingList": []})),
        ),
        // A lone `$patch: replace` item empties the list.
        (
            "delete all items from merging list",
            json!({"mergingList": [{"name": 1}, {"name": 2}]}),
            json!({"mergingList": [{"$patch": "replace"}]}),
            Ok(json!({"mergingList": []})),
        ),
        // A list the original lacks is taken minus its directive items.
        (
            "nested patch merge with empty list",
            json!({"name": "hi"}),
            json!({"mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]}),
            Ok(json!({"name": "hi", "mergingList": [{"name": "hello"}]})),
        ),
        // The retainKeys strategy alone clears nothing.
        (
            "retainKeys map can add a field when no retainKeys directive present",
            json!({"retainKeysMap": {"name": "foo"}}),
            json!({"retainKeysMap": {"value": "bar"}}),
            Ok(json!({"retainKeysMap": {"name": "foo", "value": "bar"}})),
        ),
        // ...and changes fields as any map.
        (
            "retainKeys map can change a field when no retainKeys directive present",
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {"value": "b"}}),
            Ok(json!({"retainKeysMap": {"name": "foo", "value": "b"}})),
        ),
        // ...and deletes with null.
        (
            "retainKeys map can delete a field when no retainKeys directive present",
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {"value": null}}),
            Ok(json!({"retainKeysMap": {"name": "foo"}})),
        ),
        // An empty patch map changes nothing.
        (
            "retainKeys map merge an empty map",
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {}}),
            Ok(json!({"retainKeysMap": {"name": "foo", "value": "a"}})),
        ),
        // A merge,retainKeys list merges by key like any merge list.
        (
            "retainKeys list can add a field when no retainKeys directive present",
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "value": "a"}]}),
            Ok(json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]})),
        ),
        // ...changing a field of a matched item.
        (
            "retainKeys list can change a field when no retainKeys directive present",
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "value": "b"}]}),
            Ok(json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "b"}]})),
        ),
        // ...deleting a field of a matched item.
        (
            "retainKeys list can delete a field when no retainKeys directive present",
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "value": null}]}),
            Ok(json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]})),
        ),
        // A replace-strategy field takes the patch value whole.
        (
            "replace RawExtension field, rest unchanched",
            json!({"name": "my-object", "value": "some-value", "other": "current-other",
                   "replacingItem": {"Some": "Generic", "Yaml": "Inside", "The": "RawExtension", "Field": "Period"}}),
            json!({"mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                   "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}}),
            Ok(
                json!({"name": "my-object", "value": "some-value", "other": "current-other",
                      "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                      "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}}),
            ),
        ),
        // ...beside a merge list merged with its own element order.
        (
            "replace RawExtension field and merge list/three-way",
            json!({"name": "my-object", "mergingList": [{"name": 1}, {"name": 3}],
                   "replacingItem": {"Some": "Generic", "Field": "Period"}}),
            json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
                   "mergingList": [{"name": 2}],
                   "replacingItem": {"Newly": "Modified"}}),
            Ok(
                json!({"name": "my-object", "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                      "replacingItem": {"Newly": "Modified"}}),
            ),
        ),
    ];
    check(schema.cursor(root), rows);
}

#[test]
fn delete_from_primitive_list_removes_values() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<Row> = vec![
        // A value not in the list: nothing happens (and it is not added).
        (
            "$deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list",
            json!({"mergingIntList": [1, 2]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"mergingIntList": [1, 2]})),
        ),
        // A null list stays null.
        (
            "$deleteFromPrimitiveList on empty primitive list should not add the item to the list",
            json!({"mergingIntList": null}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"mergingIntList": null})),
        ),
        // An absent list stays absent.
        (
            "$deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list",
            json!({"foo": ["bar"]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"foo": ["bar"]})),
        ),
        // Deletes from a set.
        (
            "$deleteFromPrimitiveList should delete item from a list with merge patch strategy",
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [2]}),
            Ok(json!({"mergingIntList": [1, 3]})),
        ),
        // Deletes from a list without merge strategy too.
        (
            "$deleteFromPrimitiveList should delete item from a list without merge patch strategy",
            json!({"nonMergingIntList": [1, 2, 3]}),
            json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]}),
            Ok(json!({"nonMergingIntList": [1, 3]})),
        ),
        // Beside an element order: order first, then the deletion; server-only 4 stays.
        (
            "delete items in lists of scalars/three-way",
            json!({"mergingIntList": [1, 2, 3, 4]}),
            json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"mergingIntList": [1, 2, 4]})),
        ),
        // Every duplicate of a deleted value goes.
        (
            "delete all duplicate items in lists of scalars/three-way",
            json!({"mergingIntList": [1, 2, 3, 3, 4]}),
            json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"mergingIntList": [1, 2, 4]})),
        ),
        // Added and deleted values in one patch.
        (
            "add and delete items in lists of scalars",
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"$setElementOrder/mergingIntList": [1, 2, 4],
                   "$deleteFromPrimitiveList/mergingIntList": [3],
                   "mergingIntList": [4]}),
            Ok(json!({"mergingIntList": [1, 2, 4]})),
        ),
        // Deleting and reordering in one patch.
        (
            "delete an item in a int list and preserve order/three-way",
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"$setElementOrder/mergingIntList": [2, 1], "$deleteFromPrimitiveList/mergingIntList": [3]}),
            Ok(json!({"mergingIntList": [2, 1]})),
        ),
    ];
    check(schema.cursor(root), rows);
}

#[test]
fn set_element_order_orders_named_items_and_keeps_server_only_ones_in_place() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<Row> = vec![
        // Named items come in the order given; merged fields stay.
        (
            "set elements order in a list/three-way",
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 3, "value": 3}, {"name": 4, "value": 4}, {"name": 2, "value": 2}]}),
            json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}]}),
            Ok(
                json!({"mergingList": [{"name": 4, "value": 4}, {"name": 2, "value": 2}, {"name": 3, "value": 3}, {"name": 1, "other": "a"}]}),
            ),
        ),
        // A server-only item last stays last.
        (
            "set elements order in a list with server-only items/three-way",
            json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 4}, {"name": 2}, {"name": 9}]}),
            json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}]}),
            Ok(
                json!({"mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}, {"name": 9}]}),
            ),
        ),
        // A server-only item goes before the first named item it preceded live.
        (
            "set elements order in a list with server-only items 2/three-way",
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2}, {"name": 9}, {"name": 3}, {"name": 4}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}]}),
            Ok(
                json!({"mergingList": [{"name": 2}, {"name": 1, "other": "a"}, {"name": 9}, {"name": 4}, {"name": 3}]}),
            ),
        ),
        // Several server-only items keep their relative order.
        (
            "set elements order in a list with server-only items 3/three-way",
            json!({"mergingList": [{"name": 1}, {"name": 2}, {"name": 7}, {"name": 9}, {"name": 8}, {"name": 3}, {"name": 4}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}]}),
            Ok(
                json!({"mergingList": [{"name": 2}, {"name": 1}, {"name": 7}, {"name": 9}, {"name": 8}, {"name": 4}, {"name": 3}]}),
            ),
        ),
        // New items land where the order says.
        (
            "merge lists of maps/three-way",
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]}),
            Ok(json!({"mergingList": [
                {"name": 4, "value": 4},
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]})),
        ),
        // An order naming items no list has is fine.
        (
            "$setElementOrder contains item that is not present in the list to be merged",
            json!({"mergingList": [{"name": 1}, {"name": 3}]}),
            json!({"$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
                   "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
            Ok(json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]})),
        ),
        // Same for a set.
        (
            "$setElementOrder contains item that is not present in the int list to be merged",
            json!({"mergingIntList": [1, 3]}),
            json!({"$setElementOrder/mergingIntList": [3, 2, 1]}),
            Ok(json!({"mergingIntList": [3, 1]})),
        ),
        // Sets: server-only value in the middle.
        (
            "set elements order in a int list with server-only items 2/three-way",
            json!({"mergingIntList": [1, 2, 9, 3, 4]}),
            json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
            Ok(json!({"mergingIntList": [2, 1, 9, 4, 3]})),
        ),
        // Sets: several server-only values.
        (
            "set elements order in a int list with server-only items 3/three-way",
            json!({"mergingIntList": [1, 2, 7, 9, 8, 3, 4]}),
            json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
            Ok(json!({"mergingIntList": [2, 1, 7, 9, 8, 4, 3]})),
        ),
        // Sets: new values placed by the order.
        (
            "add multiple items in a int list and preserve order/three-way",
            json!({"mergingIntList": [1, 2]}),
            json!({"$setElementOrder/mergingIntList": [1, 4, 2, 3], "mergingIntList": [4, 3]}),
            Ok(json!({"mergingIntList": [1, 4, 2, 3]})),
        ),
        // Duplicates in a list of maps gather at their key's first place.
        (
            "behavior of set element order for a merging list with duplicate",
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "dup1"}, {"name": 3}, {"name": 2, "value": "dup2"}, {"name": 4}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}, {"name": 2}]}),
            Ok(
                json!({"mergingList": [{"name": 2, "value": "dup1"}, {"name": 2, "value": "dup2"}, {"name": 1}, {"name": 4}, {"name": 3}]}),
            ),
        ),
        // Same for a set.
        (
            "behavior of set element order for a merging int list with duplicate",
            json!({"mergingIntList": [1, 2, 3, 2, 4]}),
            json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]}),
            Ok(json!({"mergingIntList": [2, 2, 1, 4, 3]})),
        ),
        // A list the original lacks: the new item and the order, deletions dropped.
        (
            "nested patch merge with empty list/three-way",
            json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
            json!({"$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
                   "mergingList": [{"name": "hello"}]}),
            Ok(json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]})),
        ),
        // A deletion in one list, a reorder in another.
        (
            "delete and reorder in one list, reorder in another",
            json!({"mergingList": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}],
                   "mergeItemPtr": [{"name": "c", "value": "c"}, {"name": "d", "value": "d"}]}),
            json!({"$setElementOrder/mergingList": [{"name": "b"}],
                   "$setElementOrder/mergeItemPtr": [{"name": "d"}, {"name": "c"}],
                   "mergingList": [{"$patch": "delete", "name": "a"}]}),
            Ok(json!({"mergingList": [{"name": "b", "value": "b"}],
                      "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}]})),
        ),
        // The patch list must follow the order list.
        (
            "should check if order in $setElementOrder and patch list match",
            json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
            json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
            Err("doesn't match"),
        ),
        // Same for a set.
        (
            "should check if order in $setElementOrder and int patch list match",
            json!({"mergingIntList": [1, 3, 2]}),
            json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]}),
            Err("doesn't match"),
        ),
    ];
    check(schema.cursor(root), rows);
}

#[test]
fn retain_keys_clears_unlisted_keys() {
    let (schema, root) = merge_item_schema();
    let rows: Vec<Row> = vec![
        // A defaulted field the patch does not list is cleared.
        (
            "retainKeys map should clear defaulted field/three-way",
            json!({"retainKeysMap": {"value": "foo"}}),
            json!({"retainKeysMap": {"$retainKeys": ["other"], "other": "bar"}}),
            Ok(json!({"retainKeysMap": {"other": "bar"}})),
        ),
        // A discriminated union switches member.
        (
            "retainKeys map should clear defaulted field with conflict (discriminated union)/three-way",
            json!({"retainKeysMap": {"name": "type1", "value": "foo"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name", "other"], "name": "type2", "other": "bar"}}),
            Ok(json!({"retainKeysMap": {"name": "type2", "other": "bar"}})),
        ),
        // Listed keys not in the patch are kept.
        (
            "retainKeys map adds a field and clear a field/three-way",
            json!({"retainKeysMap": {"name": "foo", "other": "a"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "bar"}}),
            Ok(json!({"retainKeysMap": {"name": "foo", "value": "bar"}})),
        ),
        // A null for a listed key deletes it.
        (
            "retainKeys map deletes a field",
            json!({"retainKeysMap": {"name": "foo", "value": "bar"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name"], "value": null}}),
            Ok(json!({"retainKeysMap": {"name": "foo"}})),
        ),
        // Inside a merge,retainKeys list item.
        (
            "retainKeys list of maps clears a field/three-way",
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]}),
            json!({"$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
                   "retainKeysMergingList": [{"$retainKeys": ["name", "value"], "name": "foo"}]}),
            Ok(json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]})),
        ),
        // ...while changing a field.
        (
            "retainKeys list of maps clears a field with conflict/three-way",
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "new", "other": "x"}]}),
            json!({"$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
                   "retainKeysMergingList": [{"$retainKeys": ["name", "value"], "name": "foo", "value": "modified"}]}),
            Ok(
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "modified"}]}),
            ),
        ),
    ];
    check(schema.cursor(root), rows);
}

#[test]
fn unknown_and_untyped_fields_merge_as_json_merge_patch() {
    let (schema, root) = merge_item_schema();
    let base =
        json!({"array": [1, 2, 3], "complex": {"nested": true}, "name": "foo", "scalar": true});
    let rows: Vec<Row> = vec![
        // Nulls inside a new value are dropped (TestUnknownField).
        (
            "no diff even if modified null",
            base.clone(),
            json!({"complex_nullable": {"key": null}}),
            Ok(
                json!({"array": [1, 2, 3], "complex": {"nested": true}, "complex_nullable": {}, "name": "foo", "scalar": true}),
            ),
        ),
        // ...at any depth, keeping non-null siblings.
        (
            "discard nulls in nested and adds not nulls",
            base.clone(),
            json!({"complex_nullable": {"key": {"keynotnull": "value", "keynull": null}}}),
            Ok(json!({"array": [1, 2, 3], "complex": {"nested": true},
                      "complex_nullable": {"key": {"keynotnull": "value"}}, "name": "foo", "scalar": true})),
        ),
        // ...inside objects inside lists.
        (
            "filter nulls from nested slices",
            json!({}),
            json!({"complex_nullable": [{"inner_one": {"key_one": "foo", "key_two": null}}]}),
            Ok(json!({"complex_nullable": [{"inner_one": {"key_one": "foo"}}]})),
        ),
        // ...leaving empty objects.
        (
            "filter if slice is all empty",
            json!({}),
            json!({"complex_nullable": [{"inner_one": {"key_one": null, "key_two": null}}]}),
            Ok(json!({"complex_nullable": [{"inner_one": {}}]})),
        ),
        // Null list items are kept.
        (
            "not filter nulls from non-associative slice",
            json!({}),
            json!({"complex_nullable": ["key1", null, "key2"]}),
            Ok(json!({"complex_nullable": ["key1", null, "key2"]})),
        ),
        // Nulls already in the original stay.
        (
            "nested null values in original are preserved",
            json!({"complex": {"key": null}, "thing": null}),
            json!({"nested": {"value": 5}}),
            Ok(json!({"complex": {"key": null}, "nested": {"value": 5}, "thing": null})),
        ),
        // Unknown fields delete with null.
        (
            "removed only/three-way",
            json!({"name": "foo", "scalar": true, "complex": {"nested": true}, "array": [1, 2, 3]}),
            json!({"complex": null, "scalar": null}),
            Ok(json!({"array": [1, 2, 3], "name": "foo"})),
        ),
        // We differ: upstream fails ("unable to find api field"); we merge the objects.
        (
            "diff",
            base.clone(),
            json!({"complex": {"nested": false}}),
            Ok(
                json!({"array": [1, 2, 3], "complex": {"nested": false}, "name": "foo", "scalar": true}),
            ),
        ),
        // We differ: upstream fails inside untyped JSON; we merge as JSON merge patch.
        (
            "json",
            json!({"name": "foo", "jsonItem": {"nested": {"nested2": {"nested3": {}}}}}),
            json!({"jsonItem": {"nested": {"nested2": {"nested3": {"a": "b"}}}}}),
            Ok(
                json!({"name": "foo", "jsonItem": {"nested": {"nested2": {"nested3": {"a": "b"}}}}}),
            ),
        ),
        // Untyped lists are replaced, never merged.
        (
            "untyped lists are replaced",
            json!({"jsonItem": {"list": [{"name": "a"}], "keep": 1}}),
            json!({"jsonItem": {"list": [{"name": "b"}]}}),
            Ok(json!({"jsonItem": {"list": [{"name": "b"}], "keep": 1}})),
        ),
    ];
    check(schema.cursor(root), rows);
}
