//! The protobuf schema table: every message the built-in API groups can carry.
//!
//! The table is `schema.txt`, generated from upstream `generated.proto` files by
//! `gen_schema.py` (whose doc comment gives the format), embedded in the binary and
//! parsed once, on the first decode. Parsing resolves every type name to a
//! [`MessageId`], so decoding never looks a name up.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The generated table; see `gen_schema.py` for its format.
const SCHEMA_TEXT: &str = include_str!("schema.txt");

/// Protobuf package of `k8s.io/apimachinery/pkg/apis/meta/v1`.
pub(super) const META_V1: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";
const RUNTIME: &str = "k8s.io.apimachinery.pkg.runtime";
const RESOURCE: &str = "k8s.io.apimachinery.pkg.api.resource";
const INTSTR: &str = "k8s.io.apimachinery.pkg.util.intstr";
const APIEXTENSIONS_V1: &str = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1";

/// Kinds apimachinery registers in every group version (`metav1.AddToGroupVersion`)
/// besides the group's own, so a body may name them under any `apiVersion`.
const META_KINDS: &[&str] = &[
    "CreateOptions",
    "DeleteOptions",
    "GetOptions",
    "ListOptions",
    "PatchOptions",
    "Status",
    "UpdateOptions",
    "WatchEvent",
];

/// Index of a message in [`Schema::messages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MessageId(usize);

/// The parsed schema table.
#[derive(Debug)]
pub(super) struct Schema {
    /// Every message; [`MessageId`]s index this.
    messages: Vec<Message>,
    /// Full protobuf name to message.
    by_name: HashMap<String, MessageId>,
    /// `apiVersion` (`apps/v1`, `v1`) to protobuf package.
    groups: HashMap<String, String>,
}

/// One protobuf message.
#[derive(Debug)]
pub(super) struct Message {
    /// Full protobuf name, `k8s.io.api.core.v1.Pod`.
    pub(super) name: String,
    /// Whether its JSON form is something other than an object of its fields.
    pub(super) special: Special,
    /// Fields sorted by number, numbers unique.
    fields: Vec<Field>,
}

/// One field of a message.
#[derive(Debug)]
pub(super) struct Field {
    /// The protobuf field number.
    pub(super) number: u32,
    /// The JSON key (Go's json tag), empty for [`Label::Inline`].
    pub(super) json_name: String,
    /// Whether Go's JSON leaves out this scalar's zero value (held by value and tagged
    /// `omitempty`); only ever set on singular scalars.
    pub(super) omit_zero: bool,
    /// Cardinality and JSON placement.
    pub(super) label: Label,
    /// The value type (for maps, the map value type).
    pub(super) ty: Type,
}

/// How often a field occurs and where its JSON goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    /// At most one value, under the field's JSON name.
    Single,
    /// A message whose fields merge into the parent's object (Go `json:",inline"`).
    Inline,
    /// Any number of values, as a JSON array.
    Repeated,
    /// Map entries (key field 1, value field 2), as a JSON object.
    Map(Scalar),
}

/// A field's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Type {
    /// A protobuf scalar.
    Scalar(Scalar),
    /// A message.
    Message(MessageId),
}

/// The protobuf scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
}

impl Scalar {
    fn parse(name: &str) -> Option<Scalar> {
        Some(match name {
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            "int32" => Scalar::Int32,
            "int64" => Scalar::Int64,
            "uint32" => Scalar::Uint32,
            "uint64" => Scalar::Uint64,
            "sint32" => Scalar::Sint32,
            "sint64" => Scalar::Sint64,
            "fixed32" => Scalar::Fixed32,
            "fixed64" => Scalar::Fixed64,
            "sfixed32" => Scalar::Sfixed32,
            "sfixed64" => Scalar::Sfixed64,
            "bool" => Scalar::Bool,
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes,
            _ => return None,
        })
    }
}

/// Messages whose Go types marshal JSON by hand, so their JSON is not an object of
/// their protobuf fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Special {
    /// An ordinary message: a JSON object of its fields.
    None,
    /// `meta/v1.Time`: RFC 3339 in seconds, or null.
    Time,
    /// `meta/v1.MicroTime`: RFC 3339 in microseconds, or null.
    MicroTime,
    /// `meta/v1.Duration`: a Go duration string.
    Duration,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `resource.Quantity` and `QuantityValue`: the quantity string.
    Quantity,
    /// `runtime.RawExtension`: its embedded JSON, or a nested protobuf object.
    RawExtension,
    /// `meta/v1.FieldsV1` and apiextensions `JSON`: their embedded JSON.
    EmbeddedJson,
    /// A Go slice type wrapped for protobuf (`ExtraValue`, `Verbs`): the array.
    List,
    /// apiextensions `JSONSchemaPropsOrArray`: a schema or an array of them.
    SchemaOrArray,
    /// apiextensions `JSONSchemaPropsOrBool`: a schema or a boolean.
    SchemaOrBool,
    /// apiextensions `JSONSchemaPropsOrStringArray`: a schema or a string array.
    SchemaOrStringArray,
}

impl Special {
    fn of(full_name: &str) -> Special {
        let Some((package, name)) = full_name.rsplit_once('.') else {
            return Special::None;
        };
        match (package, name) {
            (META_V1, "Time") => Special::Time,
            (META_V1, "MicroTime") => Special::MicroTime,
            (META_V1, "Duration") => Special::Duration,
            (META_V1, "FieldsV1") | (APIEXTENSIONS_V1, "JSON") => Special::EmbeddedJson,
            (INTSTR, "IntOrString") => Special::IntOrString,
            (RESOURCE, "Quantity" | "QuantityValue") => Special::Quantity,
            (RUNTIME, "RawExtension") => Special::RawExtension,
            (APIEXTENSIONS_V1, "JSONSchemaPropsOrArray") => Special::SchemaOrArray,
            (APIEXTENSIONS_V1, "JSONSchemaPropsOrBool") => Special::SchemaOrBool,
            (APIEXTENSIONS_V1, "JSONSchemaPropsOrStringArray") => Special::SchemaOrStringArray,
            _ => Special::None,
        }
    }
}

impl Message {
    /// The field with protobuf number `number`, if the schema knows it.
    pub(super) fn field(&self, number: u32) -> Option<&Field> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .and_then(|i| self.fields.get(i))
    }
}

impl Schema {
    /// The message behind `id`.
    ///
    /// Ids only come from this schema, so the index is always in range.
    pub(super) fn message(&self, id: MessageId) -> &Message {
        &self.messages[id.0]
    }

    /// The message for a top-level object of `kind` in `api_version`, if the table has
    /// one. Special messages (`Time`, `Quantity`...) are never top-level objects.
    pub(super) fn kind(&self, api_version: &str, kind: &str) -> Option<MessageId> {
        let package = self.groups.get(api_version)?;
        let candidates = [
            Some(format!("{package}.{kind}")),
            META_KINDS
                .contains(&kind)
                .then(|| format!("{META_V1}.{kind}")),
        ];
        candidates
            .into_iter()
            .flatten()
            .filter_map(|name| self.by_name.get(&name).copied())
            .find(|&id| self.message(id).special == Special::None)
    }

    /// Looks a message up by its full protobuf name.
    #[cfg(test)]
    pub(super) fn by_name(&self, name: &str) -> Option<MessageId> {
        self.by_name.get(name).copied()
    }

    /// Parses the table text (format in `gen_schema.py`).
    pub(super) fn parse(text: &str) -> Result<Schema, String> {
        let records: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
            .collect();

        // First pass: names, so fields can refer to messages defined later.
        let mut by_name = HashMap::new();
        let mut groups = HashMap::new();
        let mut messages = Vec::new();
        for &(lineno, line) in &records {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or_default();
            if first == "@group" {
                let (Some(api_version), Some(package), None) =
                    (words.next(), words.next(), words.next())
                else {
                    return Err(format!("line {lineno}: malformed @group"));
                };
                groups.insert(api_version.to_owned(), package.to_owned());
                continue;
            }
            let id = MessageId(messages.len());
            if by_name.insert(first.to_owned(), id).is_some() {
                return Err(format!("line {lineno}: duplicate message {first}"));
            }
            let list = words.any(|w| w == "!list");
            let special = if list {
                Special::List
            } else {
                Special::of(first)
            };
            messages.push(Message {
                name: first.to_owned(),
                special,
                fields: Vec::new(),
            });
        }

        // Second pass: fields, with type names resolved.
        let mut index = 0;
        for &(lineno, line) in &records {
            if line.starts_with("@group") {
                continue;
            }
            let message = &messages[index];
            let package = message.name.rsplit_once('.').map_or("", |(p, _)| p);
            let mut fields = Vec::new();
            for word in line.split_whitespace().skip(1) {
                if word.starts_with('!') {
                    continue;
                }
                let field = parse_field(word, package, &by_name, &messages)
                    .map_err(|e| format!("line {lineno}: field {word:?}: {e}"))?;
                fields.push(field);
            }
            fields.sort_by_key(|f| f.number);
            if fields.windows(2).any(|w| w[0].number == w[1].number) {
                return Err(format!("line {lineno}: duplicate field number"));
            }
            if message.special == Special::List
                && !matches!(fields.as_slice(), [f] if f.label == Label::Repeated)
            {
                return Err(format!("line {lineno}: !list needs one repeated field"));
            }
            messages[index].fields = fields;
            index += 1;
        }

        for (api_version, package) in &groups {
            let prefix = format!("{package}.");
            if !by_name.keys().any(|name| name.starts_with(&prefix)) {
                return Err(format!("group {api_version}: no messages in {package}"));
            }
        }
        Ok(Schema {
            messages,
            by_name,
            groups,
        })
    }
}

fn parse_field(
    word: &str,
    package: &str,
    by_name: &HashMap<String, MessageId>,
    messages: &[Message],
) -> Result<Field, String> {
    let mut parts = word.splitn(3, ':');
    let (Some(number), Some(json_name), Some(ty)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("want number:jsonName:type".to_owned());
    };
    let (json_name, omit_zero) = match json_name.strip_suffix('?') {
        Some(name) => (name, true),
        None => (json_name, false),
    };
    let number: u32 = number
        .parse()
        .ok()
        .filter(|n| (1..1 << 29).contains(n))
        .ok_or("bad field number")?;
    let resolve = |name: &str| -> Result<Type, String> {
        if let Some(scalar) = Scalar::parse(name) {
            return Ok(Type::Scalar(scalar));
        }
        let full = if name.contains('.') {
            name.to_owned()
        } else {
            format!("{package}.{name}")
        };
        by_name
            .get(&full)
            .map(|&id| Type::Message(id))
            .ok_or_else(|| format!("unknown type {full}"))
    };
    let (label, ty) = if let Some(element) = ty.strip_prefix("[]") {
        (Label::Repeated, resolve(element)?)
    } else if let Some(entry) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
        let (key, value) = entry.split_once(',').ok_or("map needs key,value")?;
        let key = Scalar::parse(key).ok_or("map key must be a scalar")?;
        if matches!(key, Scalar::Double | Scalar::Float | Scalar::Bytes) {
            return Err("map key cannot be a float or bytes".to_owned());
        }
        (Label::Map(key), resolve(value)?)
    } else {
        (Label::Single, resolve(ty)?)
    };
    if omit_zero && !(label == Label::Single && matches!(ty, Type::Scalar(_))) {
        return Err("only a singular scalar can omit its zero value".to_owned());
    }
    let (label, json_name) = if json_name == "(inline)" {
        // Inline fields merge a plain message's object into the parent's.
        match (label, ty) {
            (Label::Single, Type::Message(id)) if messages[id.0].special == Special::None => {}
            _ => return Err("only a plain singular message can be inline".to_owned()),
        }
        (Label::Inline, String::new())
    } else if json_name.is_empty() {
        return Err("empty JSON name".to_owned());
    } else {
        (label, json_name.to_owned())
    };
    Ok(Field {
        number,
        json_name,
        omit_zero,
        label,
        ty,
    })
}

/// The embedded table, parsed on first use.
///
/// # Errors
///
/// The table text, if it does not parse; a unit test keeps that from shipping.
pub(super) fn schema() -> Result<&'static Schema, &'static str> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::parse(SCHEMA_TEXT))
        .as_ref()
        .map_err(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_covers_the_builtin_groups() {
        let schema = schema().unwrap();
        assert!(schema.messages.len() > 500, "{}", schema.messages.len());
        for (api_version, kind) in [
            ("v1", "Pod"),
            ("v1", "Namespace"),
            ("apps/v1", "Deployment"),
            ("batch/v1", "CronJob"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("apiregistration.k8s.io/v1", "APIService"),
            ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
            ("authentication.k8s.io/v1", "TokenRequest"),
            // apimachinery kinds registered in every group version.
            ("apps/v1", "DeleteOptions"),
            ("v1", "Status"),
        ] {
            assert!(
                schema.kind(api_version, kind).is_some(),
                "{api_version} {kind}"
            );
        }
        assert_eq!(schema.kind("apps/v1", "Pod"), None);
        assert_eq!(schema.kind("v1", "Time"), None);
        assert_eq!(schema.kind("apps/v2", "Deployment"), None);
    }

    #[test]
    fn json_names_follow_go_tags_not_proto_names() {
        let schema = schema().unwrap();
        let json_name = |message: &str, number: u32| {
            let id = schema.by_name(message).unwrap();
            let field = schema.message(id).field(number).unwrap();
            (field.json_name.clone(), field.label)
        };
        assert_eq!(
            json_name("k8s.io.api.authentication.v1.BoundObjectReference", 4),
            ("uid".to_owned(), Label::Single)
        );
        assert_eq!(
            json_name(
                "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
                3
            ),
            ("$ref".to_owned(), Label::Single)
        );
        assert_eq!(
            json_name("k8s.io.api.core.v1.Volume", 2),
            (String::new(), Label::Inline)
        );
        let omit_zero = |message: &str, number: u32| {
            let id = schema.by_name(message).unwrap();
            schema.message(id).field(number).unwrap().omit_zero
        };
        // ServicePort.nodePort is an int32 with omitempty; replicas is a *int32.
        assert!(omit_zero("k8s.io.api.core.v1.ServicePort", 5));
        assert!(!omit_zero("k8s.io.api.core.v1.ServicePort", 3));
        assert!(!omit_zero("k8s.io.api.apps.v1.DeploymentSpec", 1));
    }

    #[test]
    fn special_messages_are_recognized() {
        let schema = schema().unwrap();
        let special = |name: &str| schema.message(schema.by_name(name).unwrap()).special;
        assert_eq!(
            special("k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            Special::Time
        );
        assert_eq!(
            special("k8s.io.apimachinery.pkg.util.intstr.IntOrString"),
            Special::IntOrString
        );
        assert_eq!(
            special("k8s.io.api.authentication.v1.ExtraValue"),
            Special::List
        );
        assert_eq!(special("k8s.io.api.core.v1.Pod"), Special::None);
    }

    #[test]
    fn malformed_tables_are_rejected_with_the_line() {
        let cases = [
            // Unknown type.
            ("a.B 1:x:C", "line 1: field \"1:x:C\": unknown type a.C"),
            // Duplicate field numbers.
            (
                "a.B 1:x:string 1:y:string",
                "line 1: duplicate field number",
            ),
            // Field number 0.
            (
                "a.B 0:x:string",
                "line 1: field \"0:x:string\": bad field number",
            ),
            // Missing type.
            (
                "a.B 1:x",
                "line 1: field \"1:x\": want number:jsonName:type",
            ),
            // Inline scalar.
            (
                "a.B 1:(inline):string",
                "line 1: field \"1:(inline):string\": only a plain singular message can be inline",
            ),
            // Omit-zero marker on a message field.
            (
                "a.B 1:x?:a.B",
                "line 1: field \"1:x?:a.B\": only a singular scalar can omit its zero value",
            ),
            // A list wrapper without its repeated field.
            (
                "a.B !list 1:x:string",
                "line 1: !list needs one repeated field",
            ),
            // Group naming a package without messages.
            ("@group v1 a\n", "group v1: no messages in a"),
            // Duplicate message.
            ("a.B\na.B", "line 2: duplicate message a.B"),
        ];
        for (text, want) in cases {
            assert_eq!(Schema::parse(text).unwrap_err(), want, "{text}");
        }
    }

    #[test]
    fn bare_type_names_resolve_in_the_message_package() {
        let schema =
            Schema::parse("# c\n@group x/v1 p.q\np.q.A 1:b:B 2:m:map<string,B> 3:r:[]int64\np.q.B")
                .unwrap();
        let a = schema.message(schema.by_name("p.q.A").unwrap());
        let b = schema.by_name("p.q.B").unwrap();
        assert_eq!(a.field(1).unwrap().ty, Type::Message(b));
        assert_eq!(a.field(2).unwrap().label, Label::Map(Scalar::String));
        assert_eq!(a.field(3).unwrap().label, Label::Repeated);
        assert_eq!(a.field(3).unwrap().ty, Type::Scalar(Scalar::Int64));
        assert!(a.field(4).is_none());
        assert_eq!(
            schema.kind("x/v1", "A"),
            Some(schema.by_name("p.q.A").unwrap())
        );
    }
}
