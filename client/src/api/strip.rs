//! Dropping `metadata.managedFields` from JSON text before it is decoded.
//!
//! Caches rarely need managed fields, and decoding them is costly: every `fieldsV1`
//! trie becomes a tree of maps only to be freed again. Removing the member from the
//! text first (one pass, no allocation but the output) saves that work and the heap
//! churn it leaves behind.

/// `input` without the `managedFields` member of any object that is the value of a
/// `metadata` member, or `None` when the text holds no `"managedFields"` at all (the
/// caller decodes the original). Text that is not JSON comes out however far the
/// scan got: the decoder then reports it.
pub(crate) fn without_managed_fields(input: &[u8]) -> Option<Vec<u8>> {
    const KEY: &[u8] = b"\"managedFields\"";
    if !input.windows(KEY.len()).any(|w| w == KEY) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    // Per open container: is it an object, does it expect a key next, is it a
    // `metadata` object.
    struct Frame {
        object: bool,
        expect_key: bool,
        metadata: bool,
    }
    let mut stack: Vec<Frame> = Vec::new();
    // The value about to start is that of a `metadata` member.
    let mut value_is_metadata = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        match b {
            b'"' => {
                let end = string_end(input, i);
                let key_position = stack.last().is_some_and(|f| f.object && f.expect_key);
                if key_position {
                    let key = &input[i + 1..end.saturating_sub(1).max(i + 1)];
                    let in_metadata = stack.last().is_some_and(|f| f.metadata);
                    if in_metadata && key == b"managedFields" {
                        // Drop the member: its key, colon and value, and one comma.
                        let value_end = skip_value(input, skip_colon(input, end));
                        trim_trailing_ws(&mut out);
                        if out.last() == Some(&b',') {
                            out.pop();
                            i = value_end;
                        } else {
                            // First member: drop the comma after it instead.
                            let after = skip_ws(input, value_end);
                            i = if input.get(after) == Some(&b',') {
                                after + 1
                            } else {
                                after
                            };
                        }
                        continue;
                    }
                    value_is_metadata = key == b"metadata";
                    if let Some(f) = stack.last_mut() {
                        f.expect_key = false;
                    }
                }
                out.extend_from_slice(&input[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                stack.push(Frame {
                    object: b == b'{',
                    expect_key: b == b'{',
                    metadata: b == b'{' && value_is_metadata,
                });
                value_is_metadata = false;
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = f.object;
                }
                value_is_metadata = false;
            }
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    Some(out)
}

/// The index just past the string starting at `start` (a `"`).
fn string_end(input: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < input.len() {
        match input[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    input.len()
}

fn skip_ws(input: &[u8], mut i: usize) -> usize {
    while input.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn skip_colon(input: &[u8], i: usize) -> usize {
    let i = skip_ws(input, i);
    if input.get(i) == Some(&b':') {
        skip_ws(input, i + 1)
    } else {
        i
    }
}

/// The index just past the JSON value starting at `i`.
fn skip_value(input: &[u8], i: usize) -> usize {
    match input.get(i) {
        Some(b'"') => string_end(input, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < input.len() {
                match input[j] {
                    b'"' => {
                        j = string_end(input, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            input.len()
        }
        _ => {
            let mut j = i;
            while j < input.len() && !matches!(input[j], b',' | b'}' | b']') {
                j += 1;
            }
            j
        }
    }
}

fn trim_trailing_ws(out: &mut Vec<u8>) {
    while out.last().is_some_and(u8::is_ascii_whitespace) {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// What the filter must produce: the value with `metadata.managedFields` removed
    /// wherever a `metadata` object holds one.
    fn expected(mut v: Value) -> Value {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(m) => {
                    for (k, child) in m.iter_mut() {
                        if k == "metadata"
                            && let Value::Object(meta) = child
                        {
                            meta.remove("managedFields");
                        }
                        walk(child);
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut v);
        v
    }

    fn check(v: Value, pretty: bool) {
        let text = if pretty {
            serde_json::to_vec_pretty(&v)
        } else {
            serde_json::to_vec(&v)
        }
        .expect("encode");
        let stripped = without_managed_fields(&text).unwrap_or(text);
        let got: Value = serde_json::from_slice(&stripped)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&stripped)));
        assert_eq!(got, expected(v));
    }

    fn mf() -> Value {
        json!([{"manager": "m", "fieldsV1": {"f:data": {".": {}, "f:a\"}]": {}}}}])
    }

    #[test]
    fn managed_fields_go_wherever_they_sit_in_metadata() {
        for pretty in [false, true] {
            check(
                json!({"metadata": {"managedFields": mf(), "name": "a"}}),
                pretty,
            );
            check(
                json!({"metadata": {"name": "a", "managedFields": mf()}}),
                pretty,
            );
            check(
                json!({"metadata": {"a": 1, "managedFields": mf(), "z": [1, {"b": "}"}]}}),
                pretty,
            );
            check(json!({"metadata": {"managedFields": mf()}}), pretty);
            check(
                json!({"kind": "List", "metadata": {"resourceVersion": "1"}, "items": [
                    {"metadata": {"name": "x", "managedFields": mf()}, "data": {"managedFields": "kept"}},
                    {"metadata": {"managedFields": []}, "spec": {"metadata": {"managedFields": mf()}}},
                ]}),
                pretty,
            );
            check(
                json!({"type": "MODIFIED", "object": {"metadata": {"managedFields": mf(), "labels": {"managedFields": "x"}}}}),
                pretty,
            );
        }
    }

    #[test]
    fn managed_fields_elsewhere_and_lookalike_strings_stay() {
        for pretty in [false, true] {
            check(
                json!({"data": {"managedFields": "kept", "k": "\"managedFields\": 1"}}),
                pretty,
            );
            check(
                json!({"spec": {"managedFields": [1, 2]}, "metadata": {"name": "managedFields"}}),
                pretty,
            );
        }
        assert!(without_managed_fields(br#"{"metadata":{"name":"a"}}"#).is_none());
    }
}
