//! Objects seen through the schema, as structured-merge-diff's `typed` package sees
//! them: what each value is (a scalar, a list of some list type, a map or struct), how
//! list items are named, validation of an object against the schema, and the set of
//! fields an object sets.
//!
//! Our [`schema`](crate::schema) model maps onto structured-merge-diff's atoms as
//! kube-openapi's converter maps OpenAPI onto them (`schemaconv`):
//!
//! | schema | atom |
//! | --- | --- |
//! | `Struct` | map with fields; unknown fields go to "deduced" when it preserves unknown fields, else are errors |
//! | `Map` | map whose every key has the value type |
//! | `List` | list of its list type |
//! | `Scalar` string (no format or `byte`), integer/number, boolean | string, numeric, boolean |
//! | other strings (`date-time`, …), `IntOrString`, `Quantity` | any scalar |
//! | `Untyped` | "deduced": scalars, atomic lists, maps whose values are deduced |
//! | `RawExtension` | atomic anything |

use serde_json::{Map, Value};

use super::path::{PathElement, values_equal};
use super::set::FieldSet;
use crate::schema::{Cursor, Kind, ListType, Member, Scalar};

/// A type as the algorithms see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty<'a> {
    /// A type of our schema.
    Schema(Cursor<'a>),
    /// Untyped JSON, walked by its shape: maps are granular, lists atomic
    /// (kube-openapi's `__untyped_deduced_`).
    Deduced,
    /// Untyped JSON owned as a whole (kube-openapi's `__untyped_atomic_`).
    AtomicAny,
}

/// What kind of scalar a type accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    String,
    Numeric,
    Boolean,
    Any,
}

/// How a list is merged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ListKind<'a> {
    Atomic,
    Set,
    Map(&'a [String]),
}

/// The shape a value takes under its type (structured-merge-diff's atom, after
/// `deduceAtom` picked one for multi-shape types).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Atom<'a> {
    Scalar(ScalarKind),
    List { items: Ty<'a>, kind: ListKind<'a> },
    Map { ty: Ty<'a>, atomic: bool },
}

/// Definition names kube-openapi gives a hard-coded shape (`schemaconv`).
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION: &str = "io.k8s.apimachinery.pkg.runtime.RawExtension";

impl<'a> Ty<'a> {
    /// The shape `value` takes under this type. Types with one shape return it
    /// whatever the value is (validation then reports the mismatch); untyped ones
    /// follow the value, a null or absent value taking the map shape.
    pub(crate) fn atom(self, value: Option<&Value>) -> Atom<'a> {
        match self {
            Ty::Deduced | Ty::AtomicAny => {
                let atomic = matches!(self, Ty::AtomicAny);
                match value {
                    Some(Value::Array(_)) => Atom::List {
                        items: Ty::AtomicAny,
                        kind: ListKind::Atomic,
                    },
                    Some(Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
                        Atom::Scalar(ScalarKind::Any)
                    }
                    _ => Atom::Map { ty: self, atomic },
                }
            }
            Ty::Schema(c) => {
                let name = c.def().name.as_str();
                if name == QUANTITY {
                    return Atom::Scalar(ScalarKind::Any);
                }
                if name == RAW_EXTENSION {
                    return Ty::AtomicAny.atom(value);
                }
                match c.kind() {
                    Kind::Struct { .. } | Kind::Map { .. } => Atom::Map {
                        ty: self,
                        atomic: c.is_atomic(),
                    },
                    Kind::List { .. } => Atom::List {
                        items: c.items().map_or(Ty::AtomicAny, Ty::Schema),
                        kind: match c.list_type() {
                            Some(ListType::Set) => ListKind::Set,
                            Some(ListType::Map(keys)) => ListKind::Map(keys),
                            Some(ListType::Atomic) | None => ListKind::Atomic,
                        },
                    },
                    Kind::Scalar { scalar, format } => Atom::Scalar(match scalar {
                        Scalar::String if format.is_empty() || format == "byte" => {
                            ScalarKind::String
                        }
                        Scalar::String => ScalarKind::Any,
                        Scalar::Integer | Scalar::Number => ScalarKind::Numeric,
                        Scalar::Boolean => ScalarKind::Boolean,
                    }),
                    Kind::IntOrString => Atom::Scalar(ScalarKind::Any),
                    Kind::Untyped => Ty::Deduced.atom(value),
                }
            }
        }
    }

    /// The shape an object takes under this type (its value not needed beyond that).
    pub(crate) fn object_atom(self) -> Atom<'a> {
        self.atom(Some(&Value::Object(Map::new())))
    }

    /// The type of member `name` of a map-shaped type; `None` when the schema does not
    /// declare it and accepts no unknown members.
    pub(crate) fn member(self, name: &str) -> Option<Ty<'a>> {
        match self {
            Ty::Deduced | Ty::AtomicAny => Some(self),
            Ty::Schema(c) => match c.member(name) {
                Member::Field(_, fc) => Some(Ty::Schema(fc)),
                Member::Value(vc) => Some(Ty::Schema(vc)),
                Member::Untyped => Some(Ty::Deduced),
                // An embedded resource always has these, declared or not.
                Member::Unknown
                    if matches!(
                        c.kind(),
                        Kind::Struct {
                            embedded_resource: true,
                            ..
                        }
                    ) && matches!(name, "apiVersion" | "kind" | "metadata") =>
                {
                    Some(Ty::Deduced)
                }
                Member::Unknown => None,
            },
        }
    }

    /// Whether `name` is a declared struct field (not a map key or unknown field).
    pub(crate) fn declares(self, name: &str) -> bool {
        match self {
            Ty::Schema(c) => matches!(c.kind(), Kind::Struct { .. }) && c.field(name).is_some(),
            _ => false,
        }
    }

    /// The type of a map-shaped type's undeclared members (its element type), if any.
    fn element(self) -> Option<Ty<'a>> {
        match self {
            Ty::Deduced | Ty::AtomicAny => Some(self),
            Ty::Schema(c) => match c.kind() {
                // Every key of a map has the value type, whatever its name.
                Kind::Map { .. } => self.member(""),
                Kind::Struct {
                    preserve_unknown: true,
                    ..
                }
                | Kind::Untyped => Some(Ty::Deduced),
                _ => None,
            },
        }
    }

    /// The default of a map-list key field that an item omits: from our table of the
    /// built-in types' `+default` markers on key fields (structured-merge-diff reads
    /// them from the OpenAPI `default`, which our schema model does not carry).
    fn key_default(self, field: &str) -> Option<&'static str> {
        let Ty::Schema(c) = self else { return None };
        match (c.def().name.as_str(), field) {
            ("io.k8s.api.core.v1.ContainerPort" | "io.k8s.api.core.v1.ServicePort", "protocol") => {
                Some("TCP")
            }
            _ => None,
        }
    }
}

/// How a list item is named in paths, or why it cannot be.
pub(crate) fn list_item_element(
    items: Ty<'_>,
    kind: ListKind<'_>,
    item: &Value,
) -> Result<PathElement, String> {
    match kind {
        ListKind::Atomic => Err("invalid indexing of non-associative list".to_owned()),
        ListKind::Map(keys) if !keys.is_empty() => {
            let map = match item {
                Value::Null => {
                    return Err("associative list with keys may not have a null element".to_owned());
                }
                Value::Object(map) => map,
                _ => {
                    return Err(
                        "associative list with keys may not have non-map elements".to_owned()
                    );
                }
            };
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                if let Some(v) = map.get(key) {
                    fields.push((key.clone(), v.clone()));
                } else if let Some(def) = items.key_default(key) {
                    fields.push((key.clone(), Value::String(def.to_owned())));
                } else {
                    return Err(format!(
                        "associative list with keys has an element that omits key field {} (and doesn't have default value)",
                        super::gojson::go_quote(key)
                    ));
                }
            }
            Ok(PathElement::key(fields))
        }
        ListKind::Set | ListKind::Map(_) => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".to_owned())
            }
            Value::Array(_) => {
                Err("not supported: associative list with lists as elements".to_owned())
            }
            Value::Null => Err(
                "associative list without keys has an element that's an explicit null".to_owned(),
            ),
            v => Ok(PathElement::Value(v.clone())),
        },
    }
}

/// Whether [`list_item_element`] names `item`, without building the element.
fn item_is_named(items: Ty<'_>, kind: ListKind<'_>, item: &Value) -> bool {
    match kind {
        ListKind::Atomic => false,
        ListKind::Map(keys) if !keys.is_empty() => match item {
            Value::Object(map) => keys
                .iter()
                .all(|k| map.contains_key(k) || items.key_default(k).is_some()),
            _ => false,
        },
        ListKind::Set | ListKind::Map(_) => {
            !matches!(item, Value::Object(_) | Value::Array(_) | Value::Null)
        }
    }
}

/// Where a walk over a whole object is, so that it can leave out
/// `metadata.managedFields` without copying the object: the typed walks never see
/// that field (upstream strips it before converting an object to a typed value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// The object's root.
    Root,
    /// The root's `metadata`: `managedFields` here is left out.
    Metadata,
    /// Anywhere else, or a walk that hides nothing.
    Below,
}

impl Level {
    /// The level of member `key` of a map at this level.
    pub(crate) fn child(self, key: &str) -> Level {
        if self == Level::Root && key == "metadata" {
            Level::Metadata
        } else {
            Level::Below
        }
    }

    /// Whether member `key` of a map at this level is left out.
    pub(crate) fn hides(self, key: &str) -> bool {
        self == Level::Metadata && key == "managedFields"
    }

    /// The members of `map` a walk at this level sees.
    pub(crate) fn visible(
        self,
        map: &Map<String, Value>,
    ) -> impl Iterator<Item = (&String, &Value)> {
        map.iter().filter(move |(k, _)| !self.hides(k))
    }

    /// Whether `map` has no member a walk at this level sees.
    pub(crate) fn is_empty(self, map: &Map<String, Value>) -> bool {
        self.visible(map).next().is_none()
    }

    /// [`values_equal`] of the values a walk at this level sees.
    pub(crate) fn values_equal(self, a: &Value, b: &Value) -> bool {
        match (self, a, b) {
            (Level::Metadata, Value::Object(x), Value::Object(y)) => {
                self.visible(x).count() == self.visible(y).count()
                    && self
                        .visible(x)
                        .all(|(k, l)| y.get(k).is_some_and(|r| values_equal(l, r)))
            }
            _ => values_equal(a, b),
        }
    }
}

/// Whether [`validate`] with duplicates allowed finds nothing in an object without its
/// `metadata.managedFields`, without wording a message: the check every non-apply
/// write makes of both objects.
pub(crate) fn is_valid_object(ty: Ty<'_>, obj: &Map<String, Value>) -> bool {
    is_valid_root(ty, obj, None)
}

/// [`is_valid_object`] of `obj` beside `valid`, an object known to pass it: where the
/// two are equal, `obj` passes too, so only what differs is checked (the live object
/// of an update, beside the new one).
pub(crate) fn is_valid_object_beside(
    ty: Ty<'_>,
    obj: &Map<String, Value>,
    valid: &Map<String, Value>,
) -> bool {
    is_valid_root(ty, obj, Some(valid))
}

/// Whether [`validate`] with duplicates allowed finds nothing in `v`.
pub(crate) fn is_valid(ty: Ty<'_>, v: &Value) -> bool {
    is_valid_at(ty, v, None, Level::Below)
}

fn is_valid_root(ty: Ty<'_>, obj: &Map<String, Value>, valid: Option<&Map<String, Value>>) -> bool {
    match ty.object_atom() {
        Atom::Map { ty, .. } => is_valid_members(ty, obj, valid, Level::Root),
        // Scalars and lists never accept an object.
        Atom::Scalar(_) | Atom::List { .. } => false,
    }
}

/// Whether `v` passes; `valid` is the value at the same place in an object known to
/// pass (same type, same level), if any.
fn is_valid_at(ty: Ty<'_>, v: &Value, valid: Option<&Value>, level: Level) -> bool {
    match ty.atom(Some(v)) {
        Atom::Scalar(kind) => check_scalar(kind, v, "").is_none(),
        Atom::List { items, kind } => match v {
            Value::Null => true,
            Value::Array(list) => {
                let twins = valid.and_then(Value::as_array);
                list.iter().enumerate().all(|(i, item)| {
                    let twin = twins.and_then(|t| t.get(i));
                    twin == Some(item)
                        || ((matches!(kind, ListKind::Atomic) || item_is_named(items, kind, item))
                            && is_valid_at(items, item, twin, Level::Below))
                })
            }
            _ => false,
        },
        Atom::Map { ty, .. } => match v {
            Value::Null => true,
            Value::Object(map) => {
                is_valid_members(ty, map, valid.and_then(Value::as_object), level)
            }
            _ => false,
        },
    }
}

fn is_valid_members(
    ty: Ty<'_>,
    map: &Map<String, Value>,
    valid: Option<&Map<String, Value>>,
    level: Level,
) -> bool {
    level.visible(map).all(|(key, val)| {
        let twin = valid.and_then(|m| m.get(key));
        twin == Some(val)
            || ty
                .member(key)
                .is_some_and(|member| is_valid_at(member, val, twin, level.child(key)))
    })
}

/// One problem of an object against the schema, at a printed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidationError {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Joins errors as structured-merge-diff's `ValidationErrors.Error()` does.
pub(crate) fn format_errors(errs: &[ValidationError]) -> String {
    let one = |e: &ValidationError| {
        if e.path.is_empty() {
            e.message.clone()
        } else {
            format!("{}: {}", e.path, e.message)
        }
    };
    match errs {
        [e] => one(e),
        _ => {
            let mut lines = vec!["errors:".to_owned()];
            lines.extend(errs.iter().map(|e| format!("  {}", one(e))));
            lines.join("\n")
        }
    }
}

fn err(message: String) -> Vec<ValidationError> {
    vec![ValidationError {
        path: String::new(),
        message,
    }]
}

fn prefixed(mut errs: Vec<ValidationError>, prefix: &str) -> Vec<ValidationError> {
    for e in &mut errs {
        e.path.insert_str(0, prefix);
    }
    errs
}

/// Go's `%T` of an unstructured value, for error messages.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Whether `v` fits a scalar type (null always does).
pub(crate) fn check_scalar(kind: ScalarKind, v: &Value, prefix: &str) -> Option<String> {
    let ok = matches!(
        (kind, v),
        (_, Value::Null)
            | (ScalarKind::Numeric, Value::Number(_))
            | (ScalarKind::String, Value::String(_))
            | (ScalarKind::Boolean, Value::Bool(_))
            | (
                ScalarKind::Any,
                Value::Number(_) | Value::String(_) | Value::Bool(_)
            )
    );
    if ok {
        return None;
    }
    Some(match kind {
        ScalarKind::Numeric => {
            format!(
                "{prefix}expected numeric (int or float), got {}",
                go_type(v)
            )
        }
        ScalarKind::String => format!("{prefix}expected string, got {v}"),
        ScalarKind::Boolean => format!("{prefix}expected boolean, got {v}"),
        ScalarKind::Any => format!("{prefix}expected any scalar, got {v}"),
    })
}

/// Checks `v` against `ty` (structured-merge-diff's `TypedValue.Validate`): types of
/// values, declared fields, list item keys, and duplicate items unless allowed.
pub(crate) fn validate(ty: Ty<'_>, v: &Value, allow_duplicates: bool) -> Vec<ValidationError> {
    match ty.atom(Some(v)) {
        Atom::Scalar(kind) => check_scalar(kind, v, "").map(err).unwrap_or_default(),
        Atom::List { items, kind } => {
            let list = match v {
                Value::Null => return Vec::new(),
                Value::Array(list) => list,
                other => return err(format!("expected list, got {other}")),
            };
            let mut errs = Vec::new();
            let mut seen: Vec<PathElement> = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let pe = if matches!(kind, ListKind::Atomic) {
                    PathElement::Index(i as i64)
                } else {
                    match list_item_element(items, kind, item) {
                        Ok(pe) => pe,
                        Err(e) => {
                            errs.extend(err(format!("element {i}: {e}")));
                            return errs;
                        }
                    }
                };
                if !matches!(kind, ListKind::Atomic) {
                    match seen.binary_search(&pe) {
                        Ok(_) if !allow_duplicates => {
                            errs.extend(err(format!("duplicate entries for key {pe}")));
                        }
                        Ok(_) => {}
                        Err(at) => seen.insert(at, pe.clone()),
                    }
                }
                let inner = validate(items, item, allow_duplicates);
                if !inner.is_empty() {
                    errs.extend(prefixed(inner, &pe.to_string()));
                }
            }
            errs
        }
        Atom::Map { ty, .. } => {
            let map = match v {
                Value::Null => return Vec::new(),
                Value::Object(map) => map,
                other => return err(format!("expected map, got {other}")),
            };
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut errs = Vec::new();
            let prefix = |key: &String| PathElement::Field(key.clone()).to_string();
            for key in keys {
                let Some(member) = ty.member(key) else {
                    // Upstream stops at the first undeclared field of an object.
                    errs.extend(prefixed(
                        err("field not declared in schema".to_owned()),
                        &prefix(key),
                    ));
                    break;
                };
                if let Some(val) = map.get(key) {
                    let inner = validate(member, val, allow_duplicates);
                    if !inner.is_empty() {
                        errs.extend(prefixed(inner, &prefix(key)));
                    }
                }
            }
            errs
        }
    }
}

/// Every field and item `v` sets (structured-merge-diff's `TypedValue.ToFieldSet`):
/// scalars and atomic values as leaves; map-list and set items as members (and
/// through their fields); map keys and unknown fields as members; null and empty-map
/// values as members. `v` must have been validated (items without keys are skipped).
pub(crate) fn to_field_set(ty: Ty<'_>, v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let mut path = Vec::new();
    walk_field_set(ty, v, &mut path, &mut set);
    set
}

fn walk_field_set(ty: Ty<'_>, v: &Value, path: &mut Vec<PathElement>, set: &mut FieldSet) {
    match ty.atom(Some(v)) {
        Atom::Scalar(_) => set.insert(path),
        Atom::List { items, kind } => {
            if matches!(kind, ListKind::Atomic) {
                set.insert(path);
                return;
            }
            let Value::Array(list) = v else { return };
            let pes: Vec<Option<PathElement>> = list
                .iter()
                .map(|item| list_item_element(items, kind, item).ok())
                .collect();
            // Items named twice are owned as a whole, not through their fields.
            let mut seen: Vec<&PathElement> = Vec::new();
            let mut duplicates: Vec<&PathElement> = Vec::new();
            for pe in pes.iter().flatten() {
                match seen.binary_search(&pe) {
                    Ok(_) => {
                        if let Err(at) = duplicates.binary_search(&pe) {
                            duplicates.insert(at, pe);
                            path.push(pe.clone());
                            set.insert(path);
                            path.pop();
                        }
                    }
                    Err(at) => seen.insert(at, pe),
                }
            }
            for (item, pe) in list.iter().zip(&pes) {
                let Some(pe) = pe else { continue };
                if duplicates.binary_search(&pe).is_ok() {
                    continue;
                }
                path.push(pe.clone());
                walk_field_set(items, item, path, set);
                set.insert(path);
                path.pop();
            }
        }
        Atom::Map { ty, atomic } => {
            if atomic {
                set.insert(path);
                return;
            }
            let Value::Object(map) = v else { return };
            for (key, val) in map {
                let Some(member) = ty.member(key) else {
                    continue;
                };
                path.push(PathElement::Field(key.clone()));
                walk_field_set(member, val, path, set);
                let empty_map = matches!(val, Value::Object(m) if m.is_empty());
                if val.is_null() || empty_map || !ty.declares(key) {
                    set.insert(path);
                }
                path.pop();
            }
        }
    }
}

/// Adds every declared struct field that has paths below it as a member itself
/// (structured-merge-diff's `Set.EnsureNamedFieldsAreMembers`), so that removing
/// items can remove a whole field.
pub(crate) fn ensure_named_fields_are_members(set: &FieldSet, ty: Option<Ty<'_>>) -> FieldSet {
    // The map and list shapes of the type, where it has them.
    let map_ty = ty.and_then(|t| match t.atom(None) {
        Atom::Map { ty, .. } => Some(ty),
        _ => None,
    });
    let list_items = ty.and_then(|t| match t.atom(Some(&Value::Array(Vec::new()))) {
        Atom::List { items, .. } => Some(items),
        _ => None,
    });
    let mut members = set.members().to_vec();
    let mut children = Vec::with_capacity(set.children().len());
    for (pe, child) in set.children() {
        let child_ty = match pe {
            PathElement::Field(name) => {
                if let Some(m) = map_ty
                    && m.declares(name)
                    && let Err(at) = members.binary_search(pe)
                {
                    members.insert(at, pe.clone());
                }
                map_ty.and_then(|m| m.member(name))
            }
            PathElement::Key(_) => list_items,
            _ => None,
        };
        children.push((pe.clone(), ensure_named_fields_are_members(child, child_ty)));
    }
    FieldSet::from_parts(members, children)
}

/// Brings a manager's field set in line with schema changes since it was recorded
/// (structured-merge-diff's `ReconcileFieldSetWithSchema`): a struct, map or list that
/// became atomic is owned as a whole instead of through its parts. `None` when
/// nothing changes.
pub(crate) fn reconcile_with_schema(set: &FieldSet, ty: Ty<'_>) -> Option<FieldSet> {
    let mut to_remove = FieldSet::new();
    let mut to_add = FieldSet::new();
    let mut path = Vec::new();
    reconcile_walk(ty, Some(set), false, &mut path, &mut to_remove, &mut to_add);
    if to_remove.is_empty() && to_add.is_empty() {
        return None;
    }
    Some(set.recursive_difference(&to_remove).union(&to_add))
}

/// Adds the path walked so far to both sets (its parts go, the whole comes).
fn replace_with_whole(path: &[&PathElement], to_remove: &mut FieldSet, to_add: &mut FieldSet) {
    let path: Vec<PathElement> = path.iter().map(|pe| (*pe).clone()).collect();
    to_remove.insert(&path);
    to_add.insert(&path);
}

fn reconcile_walk<'a, 's>(
    ty: Ty<'a>,
    set: Option<&'s FieldSet>,
    is_atomic: bool,
    path: &mut Vec<&'s PathElement>,
    to_remove: &mut FieldSet,
    to_add: &mut FieldSet,
) {
    // Upstream resolves the type without a value, taking the map shape of untyped
    // types, and leaves deduced maps alone.
    let atom = match ty {
        Ty::Deduced => return,
        Ty::Schema(c) if matches!(c.kind(), Kind::Untyped) => return,
        Ty::AtomicAny => Atom::Map { ty, atomic: true },
        Ty::Schema(_) => ty.atom(None),
    };
    let mut descend = |pe: &'s PathElement,
                       child: Option<&'s FieldSet>,
                       member: bool,
                       child_ty: Ty<'a>,
                       path: &mut Vec<&'s PathElement>| {
        path.push(pe);
        let atomic = member && child.is_none();
        reconcile_walk(child_ty, child, atomic, path, to_remove, to_add);
        path.pop();
    };
    match atom {
        Atom::Scalar(_) => {}
        Atom::List { items, kind } => {
            if !is_atomic && matches!(kind, ListKind::Atomic) {
                replace_with_whole(path, to_remove, to_add);
                return;
            }
            if let Some(set) = set {
                visit_elements(set, |pe, child, member| {
                    descend(pe, child, member, items, path)
                });
            }
        }
        Atom::Map { ty: map_ty, atomic } => {
            if !is_atomic && atomic {
                if set.is_some_and(|s| !s.is_empty()) {
                    replace_with_whole(path, to_remove, to_add);
                }
                return;
            }
            if let Some(set) = set {
                visit_elements(set, |pe, child, member| {
                    let member_ty = match pe {
                        PathElement::Field(name) => map_ty.member(name),
                        _ => map_ty.element(),
                    };
                    if let Some(member_ty) = member_ty {
                        descend(pe, child, member, member_ty, path);
                    }
                });
            }
        }
    }
}

/// Calls `f(step, subtree, is_member)` for every step of a level that has a subtree.
/// Members without one are skipped: below a leaf there is nothing to reconcile.
/// (Upstream visits steps with only a subtree first, then members; the order makes
/// no difference to the sets built.)
fn visit_elements<'s>(
    set: &'s FieldSet,
    mut f: impl FnMut(&'s PathElement, Option<&'s FieldSet>, bool),
) {
    let mut members = set.members().iter().peekable();
    for (pe, child) in set.children() {
        while members.next_if(|m| *m < pe).is_some() {}
        let member = members.next_if(|m| *m == pe).is_some();
        f(pe, Some(child), member);
    }
}
