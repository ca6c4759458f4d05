use serde_json::{Value, json};

use super::scalar;
use crate::apply::set::FieldSet;
use crate::apply::typed::Ty;
use crate::apply::updater::{ManagedFields, UpdateError, Updater};
use crate::schema::build::Builder;
use crate::schema::{Kind, ListType, Scalar, Schema, TypeDef, TypeId};

/// Every path of `set`, printed and sorted.
fn paths(set: &FieldSet) -> Vec<String> {
    let mut out: Vec<String> = set.paths().iter().map(ToString::to_string).collect();
    out.sort();
    out
}

/// One step of an ownership scenario.
enum Op {
    Apply(&'static str, &'static str, Value),
    ForceApply(&'static str, &'static str, Value),
    /// An apply that must fail with these (manager, path) conflicts.
    Conflicts(
        &'static str,
        &'static str,
        Value,
        Vec<(&'static str, &'static str)>,
    ),
    Update(&'static str, &'static str, Value),
}

struct Case {
    name: &'static str,
    ops: Vec<Op>,
    /// The live object after the steps (skipped when `None`).
    object: Option<Value>,
    /// Every manager after the steps: name, API version, owned paths (skipped when `None`).
    managed: Option<Vec<(&'static str, &'static str, Vec<&'static str>)>>,
}

fn run(ty: Ty<'_>, case: Case) {
    let up = Updater { ty, ignore: None };
    let mut live = Value::Null;
    let mut managers = ManagedFields::new();
    for (i, op) in case.ops.into_iter().enumerate() {
        let at = format!("{} op {i}", case.name);
        let (m, v, obj, force) = match op {
            Op::Apply(m, v, obj) => (m, v, obj, false),
            Op::ForceApply(m, v, obj) => (m, v, obj, true),
            Op::Conflicts(m, v, obj, want) => {
                match up.apply(&live, &obj, v, managers.clone(), m, false) {
                    Err(UpdateError::Conflicts(got)) => {
                        let mut got: Vec<(String, String)> =
                            got.into_iter().map(|(m, p)| (m, p.to_string())).collect();
                        got.sort();
                        let mut want: Vec<(String, String)> = want
                            .iter()
                            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
                            .collect();
                        want.sort();
                        assert_eq!(got, want, "{at}");
                    }
                    other => panic!("{at}: expected conflicts, got {other:?}"),
                }
                continue;
            }
            Op::Update(m, v, obj) => {
                managers = up
                    .update(&live, &obj, v, managers, m)
                    .unwrap_or_else(|e| panic!("{at}: {e:?}"));
                live = obj;
                continue;
            }
        };
        let (new, next) = up
            .apply(&live, &obj, v, managers.clone(), m, force)
            .unwrap_or_else(|e| panic!("{at}: {e:?}"));
        if let Some(new) = new {
            live = new;
        }
        managers = next;
    }
    if let Some(want) = case.object {
        assert_eq!(live, want, "{}: object", case.name);
    }
    if let Some(want) = case.managed {
        let got: Vec<(String, String, Vec<String>)> = managers
            .iter()
            .map(|(m, vs)| (m.clone(), vs.api_version.clone(), paths(&vs.set)))
            .collect();
        let mut want: Vec<(String, String, Vec<String>)> = want
            .into_iter()
            .map(|(m, v, p)| {
                let mut p: Vec<String> = p.into_iter().map(str::to_owned).collect();
                p.sort();
                (m.to_owned(), v.to_owned(), p)
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{}: managers", case.name);
    }
}

/// structured-merge-diff's `leafFieldsParser`: three scalars.
fn leaf_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let s = b.string();
    let n = b.integer();
    let t = scalar(&mut b, Scalar::Boolean);
    let root = b.structure(
        "leafFields",
        &[
            ("numeric", n, None, None),
            ("string", s, None, None),
            ("bool", t, None, None),
        ],
        false,
    );
    (b.schema, root)
}

/// `setFieldsParser`: a set of strings.
fn set_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let s = b.string();
    let list = b.list(s, ListType::Set);
    let root = b.structure("sets", &[("list", list, None, None)], false);
    (b.schema, root)
}

/// `associativeListParser`: a map-list keyed by name.
fn associative_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let s = b.string();
    let n = b.integer();
    let item = b.structure(
        "myElement",
        &[("name", s, None, None), ("value", n, None, None)],
        false,
    );
    let list = b.list(item, ListType::Map(vec!["name".into()]));
    let root = b.structure("type", &[("list", list, None, None)], false);
    (b.schema, root)
}

/// `nestedTypeParser`, and `atomicMapParser`'s field.
fn nested_schema() -> (Schema, TypeId) {
    let mut b = Builder::new();
    let s = b.string();
    let n = b.integer();
    let set = b.list(s, ListType::Set);
    let map = b.map(s, false);
    let lol_item = b.structure(
        "lolItem",
        &[("name", s, None, None), ("value", set, None, None)],
        false,
    );
    let list_of_lists = b.list(lol_item, ListType::Map(vec!["name".into()]));
    let lom_item = b.structure(
        "lomItem",
        &[("name", s, None, None), ("value", map, None, None)],
        false,
    );
    let list_of_maps = b.list(lom_item, ListType::Map(vec!["name".into()]));
    let map_of_lists = b.map(set, false);
    let map_of_maps = b.map(map, false);
    let st = b.structure(
        "struct",
        &[("name", s, None, None), ("value", n, None, None)],
        false,
    );
    let atomic_map = b.map(s, true);
    let atomic_list = b.list(s, ListType::Atomic);
    let recursive = b.schema.reserve("mapOfMapsRecursive");
    b.schema.add(TypeDef {
        name: "mapOfMapsRecursive".to_owned(),
        description: String::new(),
        kind: Kind::Map {
            values: recursive,
            atomic: false,
        },
    });
    let root = b.structure(
        "type",
        &[
            ("listOfLists", list_of_lists, None, None),
            ("listOfMaps", list_of_maps, None, None),
            ("mapOfLists", map_of_lists, None, None),
            ("mapOfMaps", map_of_maps, None, None),
            ("struct", st, None, None),
            ("atomicMap", atomic_map, None, None),
            ("atomicList", atomic_list, None, None),
            ("mapOfMapsRecursive", recursive, None, None),
        ],
        false,
    );
    (b.schema, root)
}

#[test]
fn leaf_fields_change_hands_as_upstream() {
    let (schema, root) = leaf_schema();
    let cases = vec![
        // TestUpdateLeaf/apply_update_apply_no_conflict: the controller's new field
        // stays its own when the applier changes only its fields.
        Case {
            name: "apply_update_apply_no_conflict",
            ops: vec![
                Op::Apply("default", "v1", json!({"numeric": 1, "string": "string"})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"numeric": 1, "string": "string", "bool": true}),
                ),
                Op::Apply("default", "v1", json!({"numeric": 2, "string": "string"})),
            ],
            object: Some(json!({"numeric": 2, "string": "string", "bool": true})),
            managed: Some(vec![
                ("default", "v1", vec![".numeric", ".string"]),
                ("controller", "v1", vec![".bool"]),
            ]),
        },
        // TestUpdateLeaf/apply_update_apply_with_conflict: the applier conflicts on the
        // field the controller changed, then takes it by force.
        Case {
            name: "apply_update_apply_with_conflict",
            ops: vec![
                Op::Apply("default", "v1", json!({"numeric": 1, "string": "string"})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"numeric": 1, "string": "controller string", "bool": true}),
                ),
                Op::Conflicts(
                    "default",
                    "v1",
                    json!({"numeric": 2, "string": "user string"}),
                    vec![("controller", ".string")],
                ),
                Op::ForceApply(
                    "default",
                    "v1",
                    json!({"numeric": 2, "string": "user string"}),
                ),
            ],
            object: Some(json!({"numeric": 2, "string": "user string", "bool": true})),
            managed: Some(vec![
                ("default", "v1", vec![".numeric", ".string"]),
                ("controller", "v1", vec![".bool"]),
            ]),
        },
        // TestUpdateLeaf/update_apply_omits: a field an updater took over survives the
        // applier dropping it.
        Case {
            name: "update_apply_omits",
            ops: vec![
                Op::Apply("default", "v1", json!({"numeric": 2})),
                Op::Update("controller", "v1", json!({"numeric": 1})),
                Op::Apply("default", "v1", json!({})),
            ],
            object: Some(json!({"numeric": 1})),
            managed: Some(vec![("controller", "v1", vec![".numeric"])]),
        },
        // TestUpdateLeaf/apply_twice_remove_different_version: fields the applier drops
        // are removed; its entry moves to the new version.
        Case {
            name: "apply_twice_remove_different_version",
            ops: vec![
                Op::Apply(
                    "default",
                    "v1",
                    json!({"numeric": 1, "string": "string", "bool": false}),
                ),
                Op::Apply("default", "v2", json!({"string": "new string"})),
            ],
            object: Some(json!({"string": "new string"})),
            managed: Some(vec![("default", "v2", vec![".string"])]),
        },
        // TestUpdateLeaf/update_remove_empty_set: an entry left with nothing goes.
        Case {
            name: "update_remove_empty_set",
            ops: vec![
                Op::Apply("default", "v1", json!({"string": "string"})),
                Op::Update("controller", "v1", json!({"string": "new string"})),
            ],
            object: Some(json!({"string": "new string"})),
            managed: Some(vec![("controller", "v1", vec![".string"])]),
        },
        // TestUpdateLeaf/apply_remove_empty_set: applying nothing owns nothing.
        Case {
            name: "apply_remove_empty_set",
            ops: vec![
                Op::Apply("default", "v1", json!({"string": "string"})),
                Op::Apply("default", "v1", Value::Null),
            ],
            object: None,
            managed: Some(vec![]),
        },
    ];
    for case in cases {
        run(Ty::Schema(schema.cursor(root)), case);
    }
}

#[test]
fn set_items_merge_and_change_hands_as_upstream() {
    let (schema, root) = set_schema();
    let v = |s: &str| format!(".list[=\"{s}\"]");
    let owned = |items: &[&str]| -> Vec<&'static str> {
        items
            .iter()
            .map(|s| &*Box::leak(v(s).into_boxed_str()))
            .collect()
    };
    let cases = vec![
        // TestUpdateSet/apply_twice: the second apply adds items.
        Case {
            name: "apply_twice",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "c"]})),
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c", "d"]})),
            ],
            object: Some(json!({"list": ["a", "b", "c", "d"]})),
            managed: Some(vec![("default", "v1", owned(&["a", "b", "c", "d"]))]),
        },
        // TestUpdateSet/apply_update_apply_no_overlap: the controller's items stay where
        // they were, the applier's new items follow its order.
        Case {
            name: "apply_update_apply_no_overlap",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "c"]})),
                Op::Update("controller", "v1", json!({"list": ["a", "b", "c", "d"]})),
                Op::Apply(
                    "default",
                    "v1",
                    json!({"list": ["a", "aprime", "c", "cprime"]}),
                ),
            ],
            object: Some(json!({"list": ["a", "b", "aprime", "c", "d", "cprime"]})),
            managed: Some(vec![
                ("default", "v1", owned(&["a", "aprime", "c", "cprime"])),
                ("controller", "v1", owned(&["b", "d"])),
            ]),
        },
        // TestUpdateSet/apply_update_apply_with_overlap: applying an item the controller
        // added, unchanged, shares it without conflict.
        Case {
            name: "apply_update_apply_with_overlap",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "c"]})),
                Op::Update("controller", "v1", json!({"list": ["a", "b", "c", "d"]})),
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c"]})),
            ],
            object: Some(json!({"list": ["a", "b", "c", "d"]})),
            managed: Some(vec![
                ("default", "v1", owned(&["a", "b", "c"])),
                ("controller", "v1", owned(&["b", "d"])),
            ]),
        },
        // TestUpdateSet/apply_update_apply_reorder: reordering owns nothing; the next
        // apply restores its order.
        Case {
            name: "apply_update_apply_reorder",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c", "d"]})),
                Op::Update("controller", "v1", json!({"list": ["a", "d", "c", "b"]})),
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c", "d"]})),
            ],
            object: Some(json!({"list": ["a", "b", "c", "d"]})),
            managed: Some(vec![("default", "v1", owned(&["a", "b", "c", "d"]))]),
        },
        // TestUpdateSet/apply_twice_remove: dropped items are removed.
        Case {
            name: "apply_twice_remove",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c", "d"]})),
                Op::Apply("default", "v1", json!({"list": ["a", "c"]})),
            ],
            object: Some(json!({"list": ["a", "c"]})),
            managed: Some(vec![("default", "v1", owned(&["a", "c"]))]),
        },
        // TestUpdateSet/apply_twice_reorder: the applier's own reorder wins.
        Case {
            name: "apply_twice_reorder",
            ops: vec![
                Op::Apply("default", "v1", json!({"list": ["a", "b", "c", "d"]})),
                Op::Apply("default", "v1", json!({"list": ["a", "d", "c", "b"]})),
            ],
            object: Some(json!({"list": ["a", "d", "c", "b"]})),
            managed: Some(vec![("default", "v1", owned(&["a", "b", "c", "d"]))]),
        },
    ];
    for case in cases {
        run(Ty::Schema(schema.cursor(root)), case);
    }
}

#[test]
fn map_list_items_change_hands_as_upstream() {
    let (schema, root) = associative_schema();
    let cases = vec![
        // TestMultipleAppliersSet/remove_one: an applier drops its item; the other
        // applier's item stays.
        Case {
            name: "remove_one",
            ops: vec![
                Op::Apply(
                    "apply-one",
                    "v1",
                    json!({"list": [{"name": "a"}, {"name": "b"}]}),
                ),
                Op::Apply("apply-two", "v2", json!({"list": [{"name": "c"}]})),
                Op::Apply("apply-one", "v3", json!({"list": [{"name": "a"}]})),
            ],
            object: Some(json!({"list": [{"name": "a"}, {"name": "c"}]})),
            managed: Some(vec![
                (
                    "apply-one",
                    "v3",
                    vec![r#".list[name="a"]"#, r#".list[name="a"].name"#],
                ),
                (
                    "apply-two",
                    "v2",
                    vec![r#".list[name="c"]"#, r#".list[name="c"].name"#],
                ),
            ]),
        },
        // TestMultipleAppliersSet/same_value_no_conflict: both appliers own the item.
        Case {
            name: "same_value_no_conflict",
            ops: vec![
                Op::Apply(
                    "apply-one",
                    "v1",
                    json!({"list": [{"name": "a", "value": 0}]}),
                ),
                Op::Apply(
                    "apply-two",
                    "v2",
                    json!({"list": [{"name": "a", "value": 0}]}),
                ),
            ],
            object: Some(json!({"list": [{"name": "a", "value": 0}]})),
            managed: Some(vec![
                (
                    "apply-one",
                    "v1",
                    vec![
                        r#".list[name="a"]"#,
                        r#".list[name="a"].name"#,
                        r#".list[name="a"].value"#,
                    ],
                ),
                (
                    "apply-two",
                    "v2",
                    vec![
                        r#".list[name="a"]"#,
                        r#".list[name="a"].name"#,
                        r#".list[name="a"].value"#,
                    ],
                ),
            ]),
        },
        // TestMultipleAppliersSet/change_value_yes_conflict: changing a shared item's
        // field conflicts, and nothing changes.
        Case {
            name: "change_value_yes_conflict",
            ops: vec![
                Op::Apply(
                    "apply-one",
                    "v1",
                    json!({"list": [{"name": "a", "value": 0}]}),
                ),
                Op::Conflicts(
                    "apply-two",
                    "v2",
                    json!({"list": [{"name": "a", "value": 1}]}),
                    vec![("apply-one", r#".list[name="a"].value"#)],
                ),
            ],
            object: Some(json!({"list": [{"name": "a", "value": 0}]})),
            managed: Some(vec![(
                "apply-one",
                "v1",
                vec![
                    r#".list[name="a"]"#,
                    r#".list[name="a"].name"#,
                    r#".list[name="a"].value"#,
                ],
            )]),
        },
        // TestMultipleAppliersSet/remove_one_keep_one: an item both appliers hold stays
        // when one of them drops it.
        Case {
            name: "remove_one_keep_one",
            ops: vec![
                Op::Apply(
                    "apply-one",
                    "v1",
                    json!({"list": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
                ),
                Op::Apply(
                    "apply-two",
                    "v2",
                    json!({"list": [{"name": "c"}, {"name": "d"}]}),
                ),
                Op::Apply("apply-one", "v3", json!({"list": [{"name": "a"}]})),
            ],
            object: Some(json!({"list": [{"name": "a"}, {"name": "c"}, {"name": "d"}]})),
            managed: Some(vec![
                (
                    "apply-one",
                    "v3",
                    vec![r#".list[name="a"]"#, r#".list[name="a"].name"#],
                ),
                (
                    "apply-two",
                    "v2",
                    vec![
                        r#".list[name="c"]"#,
                        r#".list[name="c"].name"#,
                        r#".list[name="d"]"#,
                        r#".list[name="d"].name"#,
                    ],
                ),
            ]),
        },
        // TestUpdateAssociativeLists/removing_obsolete_applied_structs: replacing the
        // only item.
        Case {
            name: "removing_obsolete_applied_structs",
            ops: vec![
                Op::Apply(
                    "default",
                    "v1",
                    json!({"list": [{"name": "a", "value": 1}]}),
                ),
                Op::Apply(
                    "default",
                    "v1",
                    json!({"list": [{"name": "b", "value": 2}]}),
                ),
            ],
            object: Some(json!({"list": [{"name": "b", "value": 2}]})),
            managed: Some(vec![(
                "default",
                "v1",
                vec![
                    r#".list[name="b"]"#,
                    r#".list[name="b"].name"#,
                    r#".list[name="b"].value"#,
                ],
            )]),
        },
        // The applier drops an item an updater changed a field of: the item goes anyway
        // (kube's TestApplyCanRemoveMapItemsContributedToByControllers, at this level).
        Case {
            name: "remove_item_another_manager_contributed_to",
            ops: vec![
                Op::Apply(
                    "applier",
                    "v1",
                    json!({"list": [{"name": "a"}, {"name": "b"}]}),
                ),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"list": [{"name": "a", "value": 7}, {"name": "b"}]}),
                ),
                Op::Apply("applier", "v1", json!({"list": [{"name": "b"}]})),
            ],
            object: Some(json!({"list": [{"name": "b"}]})),
            managed: Some(vec![(
                "applier",
                "v1",
                vec![r#".list[name="b"]"#, r#".list[name="b"].name"#],
            )]),
        },
    ];
    for case in cases {
        run(Ty::Schema(schema.cursor(root)), case);
    }
}

#[test]
fn nested_and_atomic_values_change_hands_as_upstream() {
    let (schema, root) = nested_schema();
    let cases = vec![
        // TestUpdateNestedType/listOfLists_change_value: a set inside a map-list item.
        Case {
            name: "listOfLists_change_value",
            ops: vec![
                Op::Apply(
                    "default",
                    "v1",
                    json!({"listOfLists": [{"name": "a", "value": ["b", "c"]}]}),
                ),
                Op::Apply(
                    "default",
                    "v1",
                    json!({"listOfLists": [{"name": "a", "value": ["a", "c"]}]}),
                ),
            ],
            object: Some(json!({"listOfLists": [{"name": "a", "value": ["a", "c"]}]})),
            managed: Some(vec![(
                "default",
                "v1",
                vec![
                    r#".listOfLists[name="a"]"#,
                    r#".listOfLists[name="a"].name"#,
                    r#".listOfLists[name="a"].value[="a"]"#,
                    r#".listOfLists[name="a"].value[="c"]"#,
                ],
            )]),
        },
        // TestUpdateNestedType/mapOfMaps_change_key_and_value: map keys are members.
        Case {
            name: "mapOfMaps_change_key_and_value",
            ops: vec![
                Op::Apply(
                    "default",
                    "v1",
                    json!({"mapOfMaps": {"a": {"b": "x", "c": "y"}}}),
                ),
                Op::Apply(
                    "default",
                    "v1",
                    json!({"mapOfMaps": {"b": {"a": "x", "c": "z"}}}),
                ),
            ],
            object: Some(json!({"mapOfMaps": {"b": {"a": "x", "c": "z"}}})),
            managed: Some(vec![(
                "default",
                "v1",
                vec![".mapOfMaps.b", ".mapOfMaps.b.a", ".mapOfMaps.b.c"],
            )]),
        },
        // TestUpdateNestedType/struct_apply_remove_all: applying nothing removes all.
        Case {
            name: "struct_apply_remove_all",
            ops: vec![
                Op::Apply(
                    "default",
                    "v1",
                    json!({"struct": {"name": "a", "value": 1}}),
                ),
                Op::Apply("default", "v1", Value::Null),
            ],
            object: Some(Value::Null),
            managed: Some(vec![]),
        },
        // TestUpdateNestedType/struct_apply_remove_dangling: a null struct is owned itself.
        Case {
            name: "struct_apply_remove_dangling",
            ops: vec![
                Op::Apply("default", "v1", json!({"struct": {"name": "a"}})),
                Op::Apply("default", "v1", json!({"struct": null})),
            ],
            object: Some(json!({"struct": null})),
            managed: Some(vec![("default", "v1", vec![".struct"])]),
        },
        // TestUpdateNestedType/struct_apply_update_remove_all,
        // struct_apply_update_dict_dangling and struct_apply_update_dict_null: what the
        // controller added survives the applier giving up the struct.
        Case {
            name: "struct_apply_update_remove_all",
            ops: vec![
                Op::Apply("default", "v1", json!({"struct": {"name": "a"}})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"struct": {"name": "a", "value": 1}}),
                ),
                Op::Apply("default", "v1", Value::Null),
            ],
            object: Some(json!({"struct": {"value": 1}})),
            managed: None,
        },
        Case {
            name: "struct_apply_update_dict_dangling",
            ops: vec![
                Op::Apply("default", "v1", json!({"struct": {"name": "a"}})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"struct": {"name": "a", "value": 1}}),
                ),
                Op::Apply("default", "v1", json!({"struct": {}})),
            ],
            object: Some(json!({"struct": {"value": 1}})),
            managed: None,
        },
        Case {
            name: "struct_apply_update_dict_null",
            ops: vec![
                Op::Apply("default", "v1", json!({"struct": {"name": "a"}})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"struct": {"name": "a", "value": 1}}),
                ),
                Op::Apply("default", "v1", json!({"struct": null})),
            ],
            object: Some(json!({"struct": {"value": 1}})),
            managed: None,
        },
        // TestUpdateNestedType/struct_apply_update_took_over: a field the controller
        // changed is no longer the applier's to remove.
        Case {
            name: "struct_apply_update_took_over",
            ops: vec![
                Op::Apply("default", "v1", json!({"struct": {"name": "a"}})),
                Op::Update(
                    "controller",
                    "v1",
                    json!({"struct": {"name": "b", "value": 1}}),
                ),
                Op::Apply("default", "v1", json!({"struct": null})),
            ],
            object: Some(json!({"struct": {"name": "b", "value": 1}})),
            managed: None,
        },
        // TestMultipleAppliersNestedType/multiple_appliers_recursive_map: two appliers
        // and two controllers at different depths of a recursive map; the first applier
        // gives up its subtree, which goes except where others own parts of it.
        Case {
            name: "multiple_appliers_recursive_map",
            ops: vec![
                Op::Apply(
                    "apply-one",
                    "v1",
                    json!({"mapOfMapsRecursive": {"a": {"b": null}, "c": {"d": null}}}),
                ),
                Op::Apply(
                    "apply-two",
                    "v2",
                    json!({"mapOfMapsRecursive": {"a": null, "c": {"d": null}}}),
                ),
                Op::Update(
                    "controller-one",
                    "v3",
                    json!({"mapOfMapsRecursive": {"a": {"b": {"c": null}}, "c": {"d": {"e": null}}}}),
                ),
                Op::Update(
                    "controller-two",
                    "v2",
                    json!({"mapOfMapsRecursive": {"a": {"b": {"c": {"d": null}}}, "c": {"d": {"e": {"f": null}}}}}),
                ),
                Op::Update(
                    "controller-one",
                    "v3",
                    json!({"mapOfMapsRecursive": {"a": {"b": {"c": {"d": {"e": null}}}}, "c": {"d": {"e": {"f": {"g": null}}}}}}),
                ),
                Op::Apply("apply-one", "v4", json!({"mapOfMapsRecursive": null})),
            ],
            object: Some(
                json!({"mapOfMapsRecursive": {"a": null, "c": {"d": {"e": {"f": {"g": null}}}}}}),
            ),
            managed: Some(vec![
                ("apply-one", "v4", vec![".mapOfMapsRecursive"]),
                (
                    "apply-two",
                    "v2",
                    vec![
                        ".mapOfMapsRecursive.a",
                        ".mapOfMapsRecursive.c",
                        ".mapOfMapsRecursive.c.d",
                    ],
                ),
                (
                    "controller-one",
                    "v3",
                    vec![".mapOfMapsRecursive.c.d.e", ".mapOfMapsRecursive.c.d.e.f.g"],
                ),
                ("controller-two", "v2", vec![".mapOfMapsRecursive.c.d.e.f"]),
            ]),
        },
        // An atomic list, like an atomic map: one field, replaced and owned whole; a
        // second applier's different list conflicts on the list, and forced, replaces it.
        Case {
            name: "atomic_list_force",
            ops: vec![
                Op::Apply("apply-one", "v1", json!({"atomicList": ["a", "b"]})),
                Op::Apply("apply-two", "v1", json!({"atomicList": ["a", "b"]})),
                Op::Conflicts(
                    "apply-three",
                    "v1",
                    json!({"atomicList": ["c"]}),
                    vec![("apply-one", ".atomicList"), ("apply-two", ".atomicList")],
                ),
                Op::ForceApply("apply-three", "v1", json!({"atomicList": ["c"]})),
            ],
            object: Some(json!({"atomicList": ["c"]})),
            managed: Some(vec![("apply-three", "v1", vec![".atomicList"])]),
        },
        // TestMultipleApplierAtomicMaps/force: an atomic map conflicts and moves as a
        // whole.
        Case {
            name: "atomic_map_force",
            ops: vec![
                Op::Apply("apply-one", "v1", json!({"atomicMap": {"field1": "a"}})),
                Op::Conflicts(
                    "apply-two",
                    "v1",
                    json!({"atomicMap": {"field2": "b"}}),
                    vec![("apply-one", ".atomicMap")],
                ),
                Op::ForceApply("apply-two", "v1", json!({"atomicMap": {"field2": "b"}})),
            ],
            object: Some(json!({"atomicMap": {"field2": "b"}})),
            managed: Some(vec![("apply-two", "v1", vec![".atomicMap"])]),
        },
    ];
    for case in cases {
        run(Ty::Schema(schema.cursor(root)), case);
    }
}

#[test]
fn ownership_follows_a_struct_that_became_atomic() {
    // TestGranularToAtomicSchemaChanges/to-atomic: "one" owned a field of a struct;
    // once the schema makes the struct atomic, "one" owns the struct, so "two"
    // conflicts on the whole struct and, forced, replaces it.
    let schema_with = |atomic: bool| {
        let mut b = Builder::new();
        let s = b.string();
        let n = b.integer();
        let st = b.structure(
            "struct",
            &[("numeric", n, None, None), ("string", s, None, None)],
            atomic,
        );
        let root = b.structure("v1", &[("struct", st, None, None)], false);
        (b.schema, root)
    };
    let (granular, g_root) = schema_with(false);
    let (atomic, a_root) = schema_with(true);
    let before = Updater {
        ty: Ty::Schema(granular.cursor(g_root)),
        ignore: None,
    };
    let after = Updater {
        ty: Ty::Schema(atomic.cursor(a_root)),
        ignore: None,
    };
    let one = json!({"struct": {"numeric": 1}});
    let (live, managers) = before
        .apply(&Value::Null, &one, "v1", ManagedFields::new(), "one", false)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let live = live.unwrap_or_default();
    let two = json!({"struct": {"string": "string"}});
    match after.apply(&live, &two, "v1", managers.clone(), "two", false) {
        Err(UpdateError::Conflicts(c)) => {
            let got: Vec<(String, String)> =
                c.into_iter().map(|(m, p)| (m, p.to_string())).collect();
            assert_eq!(got, [("one".to_owned(), ".struct".to_owned())]);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let (live, managers) = after
        .apply(&live, &two, "v1", managers, "two", true)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(live, Some(json!({"struct": {"string": "string"}})));
    let owned: Vec<(&String, Vec<String>)> =
        managers.iter().map(|(m, vs)| (m, paths(&vs.set))).collect();
    assert_eq!(owned, [(&"two".to_owned(), vec![".struct".to_owned()])]);
}
