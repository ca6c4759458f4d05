//! JSON text and value formatting byte-for-byte as Go's `encoding/json` and `fmt` write
//! them, where managed fields expose Go's output to clients.
//!
//! Three places need it: the key of a map-list item and the value of a set item inside
//! `fieldsV1` (`k:{"name":"c"}`, `v:"x"`), the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation that server-side apply rewrites for kubectl, and the quoted manager names
//! and path elements in conflict messages. Go sorts object keys, escapes `<`, `>`, `&`,
//! U+2028 and U+2029, and prints floats without a fraction when they are integral
//! (`1e21` and up, or below `1e-6`, in exponent form); serde_json does none of this.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Appends `v` as Go's `json.Marshal` would: sorted keys, no spaces, HTML-safe strings.
pub(crate) fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_value(out, v);
                }
            }
            out.push('}');
        }
    }
}

/// `v` as Go's `json.Marshal` text.
pub(crate) fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

/// Appends a JSON string literal with Go's escaping (HTML-safe, `\u00XX` for other
/// control characters).
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&format_float_json(f));
    }
}

/// The shortest decimal digits of `f` (no sign, no leading or trailing zeros) and the
/// power of ten of the first digit, as Go's `strconv` computes them for precision -1.
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest representation that round-trips, like Go's.
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_owned(), exp.parse().unwrap_or(0))
}

/// `%f` with the shortest precision (`strconv.FormatFloat(f, 'f', -1, 64)`).
fn format_fixed(f: f64) -> String {
    let (digits, exp) = shortest_digits(f);
    let mut out = String::new();
    if f.is_sign_negative() && f != 0.0 {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// `%e` with the shortest precision (`strconv.FormatFloat(f, 'e', -1, 64)`): at least
/// two exponent digits.
fn format_exponent(f: f64) -> String {
    let (digits, exp) = shortest_digits(f);
    let mut out = String::new();
    if f.is_sign_negative() && f != 0.0 {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let _ = write!(
        out,
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
    out
}

/// A float as Go's `encoding/json` writes it.
pub(crate) fn format_float_json(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go trims a leading zero of a negative exponent: 1e-07 becomes 1e-7.
        let s = format_exponent(f);
        if let Some(pos) = s.find("e-0") {
            let mut t = s[..pos + 2].to_owned();
            t.push_str(&s[pos + 3..]);
            return t;
        }
        return s;
    }
    format_fixed(f)
}

/// A float as Go's `fmt` prints it with `%v` (`strconv.FormatFloat(f, 'g', -1, 64)`:
/// exponent form below 1e-4 and from 1e6 up).
pub(crate) fn format_float_verb_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return "0".to_owned();
    }
    let (_, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        format_exponent(f)
    } else {
        format_fixed(f)
    }
}

/// A string quoted as Go's `%q` (`strconv.Quote`) does: printable characters as they
/// are, `\"`, `\\`, the C escapes, `\xNN` for other ASCII controls and `\uNNNN` for
/// other non-printable characters.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x80 && c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if is_go_printable(c) => out.push(c),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`, approximated: not a control, not a non-ASCII space or a
/// format, surrogate or private-use character.
pub(crate) fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = u32::from(c);
    !matches!(u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_written_as_go_writes_them() {
        let cases: &[(Value, &str)] = &[
            // Object keys sorted, no spaces.
            (
                json!({"b": 1, "a": [true, null]}),
                r#"{"a":[true,null],"b":1}"#,
            ),
            // HTML-sensitive characters and line separators escaped (json.HTMLEscape).
            (json!("<a&b>\u{2028}"), r#""\u003ca\u0026b\u003e\u2028""#),
            // Short escapes, and \u00XX for other controls, lowercase hex.
            (json!("q\"\\\n\t\u{1b}"), r#""q\"\\\n\t\u001b""#),
            // Integral floats lose their fraction.
            (json!(80.0), "80"),
            (json!(1.5), "1.5"),
            // Exponent form outside [1e-6, 1e21), with Go's trimmed exponent.
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(0.000001), "0.000001"),
            (json!(-2.5), "-2.5"),
            (json!(123456789012.0), "123456789012"),
        ];
        for (v, want) in cases {
            assert_eq!(to_string(v), *want, "{v}");
        }
    }

    #[test]
    fn floats_print_as_go_verb_v() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.5, "1.5"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-3.25, "-3.25"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float_verb_v(*f), *want, "{f}");
        }
    }

    #[test]
    fn strings_quote_as_go_percent_q() {
        let cases = [
            ("kubectl", r#""kubectl""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("tab\there\n", r#""tab\there\n""#),
            ("bell\u{7}\u{1}", r#""bell\a\x01""#),
            ("héllo", "\"héllo\""),
            ("zero\u{200b}width", r#""zero\u200bwidth""#),
        ];
        for (s, want) in cases {
            assert_eq!(go_quote(s), want, "{s:?}");
        }
    }
}
