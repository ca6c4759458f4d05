//! `metadata.managedFields`: decoding entries into the [`ManagedFields`] map the
//! updater works on, and encoding them back sorted as upstream sorts them
//! (apimachinery's `internal/managedfields.go`).
//!
//! Entries are keyed by a *manager identifier*: the JSON of the entry's manager,
//! operation, API version (updates only — an applier is the same applier whatever
//! version it applies) and subresource, exactly as Go's `json.Marshal` writes it.
//! The identifier's text matters: upstream sorts by it when it caps update entries
//! and when it groups conflicts.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ApplyError;
use super::gojson;
use super::set::FieldSet;
use super::updater::{ManagedFields, VersionedSet};

/// The kind of write that recorded a managed-fields entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Operation {
    Apply,
    Update,
}

impl Operation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManagedFieldsEntry {
    pub(crate) manager: String,
    pub(crate) operation: Operation,
    pub(crate) api_version: String,
    /// RFC 3339, in seconds, UTC (`2019-07-08T09:31:18Z`); `None` when unknown.
    pub(crate) time: Option<String>,
    pub(crate) fields: FieldSet,
    /// Empty for the main resource.
    pub(crate) subresource: String,
}

/// A `metadata.managedFields` entry (`fieldsType: FieldsV1`), empty strings omitted.
pub(crate) fn entry_value(
    manager: &str,
    operation: Operation,
    api_version: &str,
    time: Option<String>,
    fields_v1: Value,
    subresource: &str,
) -> Value {
    let mut m = Map::new();
    if !manager.is_empty() {
        m.insert("manager".into(), Value::String(manager.to_owned()));
    }
    m.insert("operation".into(), Value::String(operation.as_str().into()));
    if !api_version.is_empty() {
        m.insert("apiVersion".into(), Value::String(api_version.to_owned()));
    }
    if let Some(t) = time {
        m.insert("time".into(), Value::String(t));
    }
    m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
    m.insert("fieldsV1".into(), fields_v1);
    if !subresource.is_empty() {
        m.insert("subresource".into(), Value::String(subresource.to_owned()));
    }
    Value::Object(m)
}

/// Who a manager identifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManagerInfo {
    pub(crate) manager: String,
    pub(crate) operation: Operation,
    /// Empty for appliers.
    pub(crate) api_version: String,
    pub(crate) subresource: String,
}

impl ManagerInfo {
    /// The identifier: this entry as Go's `json.Marshal` writes a `ManagedFieldsEntry`
    /// with only these fields set (empty ones omitted; no API version for appliers).
    pub(crate) fn identifier(&self) -> String {
        let mut out = String::from("{");
        let mut field = |name: &str, value: &str| {
            if value.is_empty() {
                return;
            }
            if out.len() > 1 {
                out.push(',');
            }
            gojson::write_string(&mut out, name);
            out.push(':');
            gojson::write_string(&mut out, value);
        };
        field("manager", &self.manager);
        field("operation", self.operation.as_str());
        if self.operation == Operation::Update {
            field("apiVersion", &self.api_version);
        }
        field("subresource", &self.subresource);
        out.push('}');
        out
    }

    /// Reads an identifier back; `None` for names that are not identifiers (the
    /// updater's temporary manager).
    pub(crate) fn parse(id: &str) -> Option<Self> {
        let Value::Object(m) = serde_json::from_str::<Value>(id).ok()? else {
            return None;
        };
        let text = |k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let operation = match m.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return None,
        };
        Some(Self {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            subresource: text("subresource"),
        })
    }
}

/// Decoded managed fields: every manager's set, and when it last changed
/// (Unix seconds; `None` when the entry had no time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Managed {
    pub(crate) fields: ManagedFields,
    pub(crate) times: BTreeMap<String, Option<i64>>,
}

impl Managed {
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

fn text_field<'v>(entry: &'v Map<String, Value>, key: &str, i: usize) -> Result<&'v str, String> {
    match entry.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "managed fields entry {i}: {key} must be a string, got {other}"
        )),
    }
}

/// Decodes `metadata.managedFields` (upstream's `DecodeManagedFields`).
///
/// # Errors
///
/// A message naming the first bad entry: not an object, an operation other than
/// `Apply`/`Update`, no API version, a `fieldsType` other than `FieldsV1`, a bad time,
/// or a `fieldsV1` that is not a field trie.
pub(crate) fn decode(list: Option<&Value>) -> Result<Managed, String> {
    decode_with_ids(list).map(|(managed, _)| managed)
}

/// [`decode`], and the identifier of each entry in list order.
fn decode_with_ids(list: Option<&Value>) -> Result<(Managed, Vec<String>), String> {
    let mut managed = Managed::default();
    let mut ids = Vec::new();
    let entries = match list {
        None | Some(Value::Null) => return Ok((managed, ids)),
        Some(Value::Array(entries)) => entries,
        Some(other) => return Err(format!("managedFields must be a list, got {other}")),
    };
    for (i, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(format!("managed fields entry {i} must be an object"));
        };
        let operation = match text_field(entry, "operation", i)? {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".to_owned()),
        };
        let api_version = text_field(entry, "apiVersion", i)?;
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".to_owned());
        }
        match text_field(entry, "fieldsType", i)? {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {} in managed fields entry {i}",
                    gojson::go_quote(other)
                ));
            }
        }
        let time = match text_field(entry, "time", i)? {
            "" => None,
            t => Some(parse_time(t).ok_or_else(|| {
                format!(
                    "managed fields entry {i}: time {} is not RFC 3339",
                    gojson::go_quote(t)
                )
            })?),
        };
        let fields = match entry.get("fieldsV1") {
            None => FieldSet::new(),
            Some(v) => FieldSet::from_fields_v1(v)
                .map_err(|e| format!("error decoding versioned set from entry {i}: {e}"))?,
        };
        let info = ManagerInfo {
            manager: text_field(entry, "manager", i)?.to_owned(),
            operation,
            api_version: api_version.to_owned(),
            subresource: text_field(entry, "subresource", i)?.to_owned(),
        };
        let id = info.identifier();
        managed.fields.insert(
            id.clone(),
            VersionedSet {
                set: fields,
                api_version: api_version.to_owned(),
                applied: operation == Operation::Apply,
            },
        );
        managed.times.insert(id.clone(), time);
        ids.push(id);
    }
    Ok((managed, ids))
}

/// The `fieldsV1` values entries were decoded from, by manager identifier: what
/// [`encode_reusing`] hands back for a manager whose fields come out the same, rather
/// than encoding them again. Only candidates: a value is reused when it is exactly
/// what encoding would write.
#[derive(Debug, Default)]
pub(crate) struct Recorded<'v>(BTreeMap<String, Cow<'v, Value>>);

/// [`decode`] of a list the caller gives away (`Cow::Owned`) or lends, keeping each
/// entry's `fieldsV1` for [`encode_reusing`].
///
/// # Errors
///
/// As [`decode`]'s.
pub(crate) fn decode_recorded(
    list: Option<Cow<'_, Value>>,
) -> Result<(Managed, Recorded<'_>), String> {
    let (managed, ids) = decode_with_ids(list.as_deref())?;
    let mut recorded = BTreeMap::new();
    match list {
        Some(Cow::Owned(Value::Array(entries))) => {
            for (id, entry) in ids.into_iter().zip(entries) {
                if let Value::Object(mut entry) = entry
                    && let Some(v) = entry.remove("fieldsV1")
                {
                    recorded.insert(id, Cow::Owned(v));
                }
            }
        }
        Some(Cow::Borrowed(Value::Array(entries))) => {
            for (id, entry) in ids.into_iter().zip(entries) {
                if let Some(v) = entry.get("fieldsV1") {
                    recorded.insert(id, Cow::Borrowed(v));
                }
            }
        }
        _ => {}
    }
    Ok((managed, Recorded(recorded)))
}

/// Whether a client's `managedFields` asks for a reset: an empty list, or a list of one
/// entry with nothing set (upstream's `isResetManagedFields`).
pub(crate) fn is_reset(list: Option<&Value>) -> bool {
    match list {
        Some(Value::Array(entries)) => match entries.as_slice() {
            [] => true,
            // Unknown keys do not count: upstream decodes into the typed entry first.
            [Value::Object(entry)] => entry.iter().all(|(k, v)| match k.as_str() {
                "fieldsV1" | "time" => v.is_null(),
                "manager" | "operation" | "apiVersion" | "fieldsType" | "subresource" => {
                    v.is_null() || v.as_str() == Some("")
                }
                _ => true,
            }),
            _ => false,
        },
        _ => false,
    }
}

/// One entry of `managed`, borrowed: who, its set, and when.
struct Borrowed<'m> {
    id: &'m str,
    info: ManagerInfo,
    operation: Operation,
    vs: &'m VersionedSet,
    time: Option<i64>,
}

/// The entries of `managed`, sorted as upstream sorts them: appliers first, then by
/// time (oldest first), manager, API version and subresource.
fn sorted(managed: &Managed) -> Vec<Borrowed<'_>> {
    let mut out: Vec<Borrowed<'_>> = Vec::with_capacity(managed.fields.len());
    for (id, vs) in &managed.fields {
        let Some(info) = ManagerInfo::parse(id) else {
            continue;
        };
        out.push(Borrowed {
            operation: if vs.applied {
                Operation::Apply
            } else {
                info.operation
            },
            id,
            info,
            vs,
            time: managed.times.get(id).copied().flatten(),
        });
    }
    out.sort_by(|a, b| {
        a.operation
            .as_str()
            .cmp(b.operation.as_str())
            .then_with(|| a.time.unwrap_or(0).cmp(&b.time.unwrap_or(0)))
            .then_with(|| a.info.manager.cmp(&b.info.manager))
            .then_with(|| a.vs.api_version.cmp(&b.vs.api_version))
            .then_with(|| a.info.subresource.cmp(&b.info.subresource))
    });
    out
}

/// The entries of `managed`, sorted as upstream sorts them: appliers first, then by
/// time (oldest first), manager, API version and subresource.
#[cfg(test)]
pub(crate) fn entries(managed: &Managed) -> Vec<ManagedFieldsEntry> {
    sorted(managed)
        .into_iter()
        .map(|e| ManagedFieldsEntry {
            manager: e.info.manager,
            operation: e.operation,
            api_version: e.vs.api_version.clone(),
            time: e.time.map(format_time),
            fields: e.vs.set.clone(),
            subresource: e.info.subresource,
        })
        .collect()
}

/// `metadata.managedFields` for `managed`, or `None` when there are no entries.
pub(crate) fn encode(managed: &Managed) -> Option<Value> {
    encode_reusing(managed, &mut Recorded::default())
}

/// [`encode`], taking an entry's `fieldsV1` from `recorded` where it is exactly what
/// encoding would write (an entry whose fields did not change).
pub(crate) fn encode_reusing(managed: &Managed, recorded: &mut Recorded<'_>) -> Option<Value> {
    let list: Vec<Value> = sorted(managed)
        .iter()
        .map(|e| {
            let fields_v1 = match recorded.0.remove(e.id) {
                Some(v) if e.vs.set.encodes_to(&v) => v.into_owned(),
                _ => e.vs.set.to_fields_v1(),
            };
            entry_value(
                &e.info.manager,
                e.operation,
                &e.vs.api_version,
                e.time.map(format_time),
                fields_v1,
                &e.info.subresource,
            )
        })
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses an RFC 3339 timestamp (`2006-01-02T15:04:05[.frac](Z|±hh:mm)`) into Unix
/// seconds, fractions dropped.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// Formats Unix seconds as RFC 3339 in UTC (`metav1.Time`'s JSON form).
pub(crate) fn format_time(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Wraps a decode failure of the live object's entries (upstream: an internal error).
pub(crate) fn decode_live(list: Option<&Value>) -> Result<Managed, ApplyError> {
    decode(list).map_err(|e| ApplyError::Invalid(format!("failed to decode managed fields: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_parse_and_print_as_metav1_time() {
        // Rows: input, Unix seconds, printed back (UTC, seconds).
        let rows = [
            ("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"),
            (
                "2019-07-08T09:31:18Z",
                1_562_578_278,
                "2019-07-08T09:31:18Z",
            ),
            (
                "2019-07-08T11:31:18.123+02:00",
                1_562_578_278,
                "2019-07-08T09:31:18Z",
            ),
            (
                "0001-01-01T01:00:00Z",
                -62_135_593_200,
                "0001-01-01T01:00:00Z",
            ),
            (
                "2024-02-29T23:59:59-00:30",
                1_709_252_999,
                "2024-03-01T00:29:59Z",
            ),
        ];
        for (s, secs, back) in rows {
            assert_eq!(parse_time(s), Some(secs), "{s}");
            assert_eq!(format_time(secs), back);
        }
        for bad in [
            "",
            "2019-07-08",
            "2019-13-01T00:00:00Z",
            "2019-02-30T00:00:00Z",
            "2019-07-08T09:31:18",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn identifiers_are_go_json_of_the_entry() {
        // Rows: manager info, identifier (apimachinery's BuildManagerIdentifier).
        let rows = [
            (
                ("kubectl", Operation::Apply, "apps/v1", ""),
                r#"{"manager":"kubectl","operation":"Apply"}"#,
            ),
            (
                (
                    "kube-controller-manager",
                    Operation::Update,
                    "apps/v1",
                    "status",
                ),
                r#"{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","subresource":"status"}"#,
            ),
            (
                ("", Operation::Update, "v1", ""),
                r#"{"operation":"Update","apiVersion":"v1"}"#,
            ),
            (
                ("a<b", Operation::Apply, "", ""),
                r#"{"manager":"a\u003cb","operation":"Apply"}"#,
            ),
        ];
        for ((manager, operation, api_version, subresource), want) in rows {
            let info = ManagerInfo {
                manager: manager.into(),
                operation,
                api_version: api_version.into(),
                subresource: subresource.into(),
            };
            assert_eq!(info.identifier(), want);
            let back = ManagerInfo::parse(want);
            assert_eq!(back.map(|b| b.manager), Some(manager.to_owned()));
        }
    }

    #[test]
    fn decoding_rejects_what_upstream_rejects() {
        // Rows: entries, error (apimachinery's DecodeManagedFields messages).
        let rows = [
            (
                json!([{"manager": "m", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}]),
                "operation must be `Apply` or `Update`",
            ),
            (
                json!([{"manager": "m", "operation": "Apply", "fieldsType": "FieldsV1"}]),
                "apiVersion must not be empty",
            ),
            (
                json!([{"manager": "m", "operation": "Apply", "apiVersion": "v1"}]),
                "missing fieldsType in managed fields entry 0",
            ),
            (
                json!([{"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV2"}]),
                "invalid fieldsType \"FieldsV2\" in managed fields entry 0",
            ),
        ];
        for (v, want) in rows {
            assert_eq!(decode(Some(&v)).err().as_deref(), Some(want), "{v}");
        }
    }

    #[test]
    fn resets_are_an_empty_list_or_one_empty_entry() {
        // Rows: managedFields as sent, whether it resets (isResetManagedFields).
        let rows = [
            (json!([]), true),
            (json!([{}]), true),
            (json!([{"manager": ""}]), true),
            (json!([{"fieldsV1": {}}]), false),
            (json!([{}, {}]), false),
            (json!([{"manager": "m"}]), false),
            (json!([{"unknown": "x"}]), true),
            (Value::Null, false),
        ];
        for (v, want) in rows {
            assert_eq!(is_reset(Some(&v)), want, "{v}");
        }
        assert!(!is_reset(None));
    }

    #[test]
    fn entries_sort_appliers_first_then_by_time_and_name() {
        let v = json!([
            {"manager": "b", "operation": "Update", "apiVersion": "v1", "time": "2020-01-01T00:00:02Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:b": {}}},
            {"manager": "a", "operation": "Update", "apiVersion": "v1", "time": "2020-01-01T00:00:02Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:a": {}}},
            {"manager": "z", "operation": "Update", "apiVersion": "v1", "time": "2020-01-01T00:00:01Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:z": {}}},
            {"manager": "y", "operation": "Apply", "apiVersion": "v1", "time": "2020-01-01T00:00:09Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:y": {}}},
        ]);
        let managed = decode(Some(&v)).unwrap_or_default();
        let names: Vec<String> = entries(&managed).into_iter().map(|e| e.manager).collect();
        assert_eq!(names, ["y", "z", "a", "b"]);
        // Encoding round-trips the entries.
        let back = encode(&managed).unwrap_or(Value::Null);
        assert_eq!(decode(Some(&back)).ok(), Some(managed));
    }
}
