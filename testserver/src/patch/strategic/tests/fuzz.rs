//! Random small originals and patches, built from the words patches are made of
//! (directives, field names of the test types, merge keys), never panic, and every error
//! maps to a status code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Map, Value, json};

use crate::schema::Cursor;

use super::{apply, deployment_schema, merge_item_schema};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

const KEYS: &[&str] = &[
    "name",
    "value",
    "other",
    "mergingList",
    "nonMergingList",
    "mergingIntList",
    "nonMergingIntList",
    "mergeItemPtr",
    "simpleMap",
    "replacingItem",
    "jsonItem",
    "retainKeysMap",
    "retainKeysMergingList",
    "containers",
    "image",
    "env",
    "ports",
    "containerPort",
    "volumes",
    "emptyDir",
    "tolerations",
    "spec",
    "template",
    "metadata",
    "labels",
    "finalizers",
    "strategy",
    "$patch",
    "$retainKeys",
    "$setElementOrder",
    "$setElementOrder/mergingList",
    "$setElementOrder/mergingIntList",
    "$setElementOrder/nonMergingList",
    "$setElementOrder/containers",
    "$setElementOrder/bogus",
    "$deleteFromPrimitiveList",
    "$deleteFromPrimitiveList/mergingIntList",
    "$deleteFromPrimitiveList/mergingList",
    "$deleteFromPrimitiveList/finalizers",
    "$foo",
];

const STRINGS: &[&str] = &["a", "b", "name", "replace", "delete", "merge", "app", ""];

fn value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth == 0 || rng.below(3) == 0;
    match rng.below(if leaf { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.below(4)),
        3 => json!(rng.pick(STRINGS)),
        4 => json!(rng.below(3) as f64 + 0.5),
        5 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        _ => Value::Object(object(rng, depth - 1)),
    }
}

fn object(rng: &mut Rng, depth: usize) -> Map<String, Value> {
    (0..rng.below(5))
        .map(|_| (rng.pick(KEYS).to_owned(), value(rng, depth)))
        .collect()
}

fn run(cursor: Cursor<'_>, seed: u64, rounds: usize) {
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let original = Value::Object(object(&mut rng, 4));
        let patch = Value::Object(object(&mut rng, 4));
        let unchanged = catch_unwind(AssertUnwindSafe(|| apply(cursor, &original, &json!({}))));
        assert!(
            matches!(&unchanged, Ok(Ok(v)) if *v == original),
            "round {round}: an empty patch changed {original}"
        );
        let outcome = catch_unwind(AssertUnwindSafe(|| apply(cursor, &original, &patch)));
        match outcome {
            Ok(Ok(merged)) => assert!(merged.is_object(), "round {round}: {merged}"),
            Ok(Err(err)) => assert!(
                matches!(err.status_code(), 400 | 422 | 500),
                "round {round}: {err}"
            ),
            Err(_) => panic!("round {round} panicked\noriginal: {original}\npatch:    {patch}"),
        }
    }
}

#[test]
fn random_patches_never_panic_on_merge_item() {
    let (schema, root) = merge_item_schema();
    run(schema.cursor(root), 0x5EED_0001, 20_000);
}

#[test]
fn random_patches_never_panic_on_a_deployment() {
    let (schema, root) = deployment_schema();
    run(schema.cursor(root), 0x5EED_0002, 10_000);
}

#[test]
fn random_patches_never_panic_on_untyped_content() {
    let (schema, root) = merge_item_schema();
    let json_item = schema
        .cursor(root)
        .field("jsonItem")
        .map(|(_, c)| c)
        .expect("MergeItem has jsonItem");
    run(json_item, 0x5EED_0003, 10_000);
}
