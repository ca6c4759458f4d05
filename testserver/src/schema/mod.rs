//! The shape of every object the server serves: one structural schema model shared by
//! validation (unknown and duplicate fields), pruning, OpenAPI, strategic merge patch
//! and server-side apply.
//!
//! A [`Schema`] is a set of named types ([`TypeDef`]), each a struct, a map, a list, a
//! scalar, an int-or-string, or untyped JSON. Types refer to each other by [`TypeId`],
//! so recursive types (JSONSchemaProps) are fine. A [`Cursor`] walks a schema the way
//! an algorithm walks an object: into a struct's fields, a list's items, a map's values.
//!
//! What a list or map *means* for merging is part of the model:
//!
//! - [`ListType`]: `atomic` (replaced whole), `set` (of scalars) or `map` (items
//!   identified by key fields) — `x-kubernetes-list-type` / `-list-map-keys`;
//! - struct and map atomicity — `x-kubernetes-map-type`;
//! - for built-in types, the strategic-merge-patch facts of each field
//!   ([`PatchStrategy`], merge key).
//!
//! Built-in types come from [`builtin`]; CRDs will add theirs from `openAPIV3Schema`.

pub(crate) mod builtin;
pub(crate) mod validate;

use std::collections::HashMap;

/// Index of a type in its [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TypeId(pub(crate) u32);

/// A JSON scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Integer,
    Number,
    Boolean,
}

/// How a list merges (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListType {
    /// Replaced as a whole; owned as one field.
    Atomic,
    /// A set of scalars: items are their own identity.
    Set,
    /// Items are objects identified by these key fields.
    Map(Vec<String>),
}

/// A field's strategic-merge-patch strategy (`patchStrategy`), for built-in types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchStrategy {
    /// Lists merge by the merge key (or as a set of primitives without one).
    Merge,
    /// Replaced as a whole (the default for lists).
    Replace,
    /// The object keeps only the fields the patch lists (`$retainKeys`).
    RetainKeys,
    /// Both `merge` and `retainKeys`.
    MergeRetainKeys,
}

/// What a type is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// An object with declared properties.
    Struct {
        /// Sorted by name.
        fields: Vec<FieldDef>,
        /// Names of required properties.
        required: Vec<String>,
        /// Replaced and owned as a whole (`x-kubernetes-map-type: atomic`).
        atomic: bool,
        /// Unknown properties are kept (`x-kubernetes-preserve-unknown-fields`).
        preserve_unknown: bool,
        /// A complete Kubernetes object inside another (`x-kubernetes-embedded-resource`).
        embedded_resource: bool,
    },
    /// An object with arbitrary keys and values of one type (`additionalProperties`).
    Map {
        values: TypeId,
        /// Replaced and owned as a whole (`x-kubernetes-map-type: atomic`).
        atomic: bool,
    },
    /// An array.
    List { items: TypeId, list_type: ListType },
    /// A string, number, integer or boolean; `format` as OpenAPI has it (`int32`,
    /// `date-time`, `byte`, …), empty when none.
    Scalar { scalar: Scalar, format: String },
    /// An integer or a string (`x-kubernetes-int-or-string`).
    IntOrString,
    /// Any JSON value; nothing inside is known or pruned.
    Untyped,
}

/// One property of a struct.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub(crate) name: String,
    pub(crate) ty: TypeId,
    pub(crate) description: String,
    /// Strategic merge patch strategy (built-ins only).
    pub(crate) patch_strategy: Option<PatchStrategy>,
    /// Strategic merge patch merge key of a list of objects (built-ins only).
    pub(crate) merge_key: Option<String>,
}

/// A named (or anonymous) type.
#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    /// OpenAPI definition name (`io.k8s.api.core.v1.Container`); empty for anonymous
    /// types (an inline `array of string`).
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) kind: Kind,
}

/// A set of types and the kinds rooted in them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    types: Vec<TypeDef>,
    by_name: HashMap<String, TypeId>,
    /// `group/version/Kind` → root type.
    roots: HashMap<(String, String, String), TypeId>,
}

impl Schema {
    /// An empty schema.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a type; named types replace an earlier type of the same name.
    pub(crate) fn add(&mut self, def: TypeDef) -> TypeId {
        if !def.name.is_empty()
            && let Some(&id) = self.by_name.get(&def.name)
        {
            self.types[id.0 as usize] = def;
            return id;
        }
        let id = TypeId(self.types.len() as u32);
        if !def.name.is_empty() {
            self.by_name.insert(def.name.clone(), id);
        }
        self.types.push(def);
        id
    }

    /// Reserves a named type to be defined later (for recursive types).
    pub(crate) fn reserve(&mut self, name: &str) -> TypeId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        self.add(TypeDef {
            name: name.to_owned(),
            description: String::new(),
            kind: Kind::Untyped,
        })
    }

    /// Makes `id` the schema of a group-version-kind.
    pub(crate) fn set_root(&mut self, group: &str, version: &str, kind: &str, id: TypeId) {
        self.roots
            .insert((group.to_owned(), version.to_owned(), kind.to_owned()), id);
    }

    /// The root type of a group-version-kind.
    pub(crate) fn root(&self, group: &str, version: &str, kind: &str) -> Option<Cursor<'_>> {
        let id = *self
            .roots
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))?;
        Some(self.cursor(id))
    }

    /// A type by definition name.
    pub(crate) fn named(&self, name: &str) -> Option<Cursor<'_>> {
        Some(self.cursor(*self.by_name.get(name)?))
    }

    /// A cursor at `id`.
    pub(crate) fn cursor(&self, id: TypeId) -> Cursor<'_> {
        Cursor { schema: self, id }
    }

    /// The definition of `id`.
    pub(crate) fn def(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0 as usize]
    }

    /// Copies type `id` of `from`, with every type it refers to, into this schema;
    /// returns its id here. Named types already copied are reused.
    pub(crate) fn import(&mut self, from: &Schema, id: TypeId) -> TypeId {
        let mut copied = HashMap::new();
        self.import_one(from, id, &mut copied)
    }

    fn import_one(
        &mut self,
        from: &Schema,
        id: TypeId,
        copied: &mut HashMap<TypeId, TypeId>,
    ) -> TypeId {
        if let Some(&here) = copied.get(&id) {
            return here;
        }
        let def = from.def(id);
        // Take the slot first so recursive types find it.
        let here = TypeId(self.types.len() as u32);
        self.types.push(TypeDef {
            name: String::new(),
            description: String::new(),
            kind: Kind::Untyped,
        });
        copied.insert(id, here);
        let kind = match &def.kind {
            Kind::Struct {
                fields,
                required,
                atomic,
                preserve_unknown,
                embedded_resource,
            } => Kind::Struct {
                fields: fields
                    .iter()
                    .map(|f| FieldDef {
                        ty: self.import_one(from, f.ty, copied),
                        ..f.clone()
                    })
                    .collect(),
                required: required.clone(),
                atomic: *atomic,
                preserve_unknown: *preserve_unknown,
                embedded_resource: *embedded_resource,
            },
            Kind::Map { values, atomic } => Kind::Map {
                values: self.import_one(from, *values, copied),
                atomic: *atomic,
            },
            Kind::List { items, list_type } => Kind::List {
                items: self.import_one(from, *items, copied),
                list_type: list_type.clone(),
            },
            other => other.clone(),
        };
        if !def.name.is_empty() {
            self.by_name.insert(def.name.clone(), here);
        }
        self.types[here.0 as usize] = TypeDef {
            name: def.name.clone(),
            description: def.description.clone(),
            kind,
        };
        here
    }

    /// Every `(group, version, kind)` with a root type.
    pub(crate) fn roots(&self) -> impl Iterator<Item = (&(String, String, String), TypeId)> {
        self.roots.iter().map(|(k, v)| (k, *v))
    }
}

/// A position in a schema: a type, with the ways to step into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    schema: &'a Schema,
    id: TypeId,
}

impl<'a> Cursor<'a> {
    /// The type's id.
    pub(crate) fn id(&self) -> TypeId {
        self.id
    }

    /// The type's definition.
    pub(crate) fn def(&self) -> &'a TypeDef {
        self.schema.def(self.id)
    }

    /// What the type is.
    pub(crate) fn kind(&self) -> &'a Kind {
        &self.def().kind
    }

    /// A struct's field: its definition and a cursor at its type. `None` for unknown
    /// fields and non-structs.
    pub(crate) fn field(&self, name: &str) -> Option<(&'a FieldDef, Cursor<'a>)> {
        match self.kind() {
            Kind::Struct { fields, .. } => {
                let i = fields
                    .binary_search_by(|f| f.name.as_str().cmp(name))
                    .ok()?;
                let f = &fields[i];
                Some((f, self.schema.cursor(f.ty)))
            }
            _ => None,
        }
    }

    /// What a member `name` of this object is: a declared field, a map value, or
    /// (untyped/preserving) unknown.
    pub(crate) fn member(&self, name: &str) -> Member<'a> {
        match self.kind() {
            Kind::Struct {
                preserve_unknown, ..
            } => match self.field(name) {
                Some((def, c)) => Member::Field(def, c),
                None if *preserve_unknown => Member::Untyped,
                None => Member::Unknown,
            },
            Kind::Map { values, .. } => Member::Value(self.schema.cursor(*values)),
            Kind::Untyped => Member::Untyped,
            _ => Member::Unknown,
        }
    }

    /// A list's item type.
    pub(crate) fn items(&self) -> Option<Cursor<'a>> {
        match self.kind() {
            Kind::List { items, .. } => Some(self.schema.cursor(*items)),
            _ => None,
        }
    }

    /// A list's list type.
    pub(crate) fn list_type(&self) -> Option<&'a ListType> {
        match self.kind() {
            Kind::List { list_type, .. } => Some(list_type),
            _ => None,
        }
    }

    /// Whether a struct or map is atomic (replaced and owned as a whole). Lists: see
    /// [`list_type`](Self::list_type); scalars are always atomic leaves.
    pub(crate) fn is_atomic(&self) -> bool {
        match self.kind() {
            Kind::Struct { atomic, .. } | Kind::Map { atomic, .. } => *atomic,
            Kind::List { list_type, .. } => *list_type == ListType::Atomic,
            Kind::Scalar { .. } | Kind::IntOrString | Kind::Untyped => true,
        }
    }
}

/// What a member of an object is, per the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Member<'a> {
    /// A declared struct field.
    Field(&'a FieldDef, Cursor<'a>),
    /// A value of a map.
    Value(Cursor<'a>),
    /// Inside untyped JSON (or a struct that preserves unknown fields): anything goes.
    Untyped,
    /// Not part of the schema: an unknown field.
    Unknown,
}

/// Builds small schemas by hand (tests of the algorithms that use schemas).
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    /// A fresh builder around an empty schema.
    #[derive(Debug, Default)]
    pub(crate) struct Builder {
        pub(crate) schema: Schema,
    }

    impl Builder {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        fn anon(&mut self, kind: Kind) -> TypeId {
            self.schema.add(TypeDef {
                name: String::new(),
                description: String::new(),
                kind,
            })
        }

        pub(crate) fn string(&mut self) -> TypeId {
            self.anon(Kind::Scalar {
                scalar: Scalar::String,
                format: String::new(),
            })
        }

        pub(crate) fn integer(&mut self) -> TypeId {
            self.anon(Kind::Scalar {
                scalar: Scalar::Integer,
                format: "int32".into(),
            })
        }

        #[expect(dead_code, reason = "for the algorithms' tests; they land next")]
        pub(crate) fn boolean(&mut self) -> TypeId {
            self.anon(Kind::Scalar {
                scalar: Scalar::Boolean,
                format: String::new(),
            })
        }

        pub(crate) fn int_or_string(&mut self) -> TypeId {
            self.anon(Kind::IntOrString)
        }

        pub(crate) fn untyped(&mut self) -> TypeId {
            self.anon(Kind::Untyped)
        }

        pub(crate) fn list(&mut self, items: TypeId, list_type: ListType) -> TypeId {
            self.anon(Kind::List { items, list_type })
        }

        pub(crate) fn map(&mut self, values: TypeId, atomic: bool) -> TypeId {
            self.anon(Kind::Map { values, atomic })
        }

        /// A struct; fields as (name, type, patch strategy, merge key).
        pub(crate) fn structure(
            &mut self,
            name: &str,
            fields: &[(&str, TypeId, Option<PatchStrategy>, Option<&str>)],
            atomic: bool,
        ) -> TypeId {
            let mut defs: Vec<FieldDef> = fields
                .iter()
                .map(|(n, ty, ps, mk)| FieldDef {
                    name: (*n).to_owned(),
                    ty: *ty,
                    description: String::new(),
                    patch_strategy: *ps,
                    merge_key: mk.map(str::to_owned),
                })
                .collect();
            defs.sort_by(|a, b| a.name.cmp(&b.name));
            self.schema.add(TypeDef {
                name: name.to_owned(),
                description: String::new(),
                kind: Kind::Struct {
                    fields: defs,
                    required: Vec::new(),
                    atomic,
                    preserve_unknown: false,
                    embedded_resource: false,
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::Builder;
    use super::*;

    #[test]
    fn cursors_walk_fields_items_and_values() {
        let mut b = Builder::new();
        let s = b.string();
        let port = b.integer();
        let ports_item = b.structure(
            "Port",
            &[("containerPort", port, None, None), ("name", s, None, None)],
            false,
        );
        let ports = b.list(ports_item, ListType::Map(vec!["containerPort".into()]));
        let labels = b.map(s, false);
        let container = b.structure(
            "Container",
            &[
                ("name", s, None, None),
                (
                    "ports",
                    ports,
                    Some(PatchStrategy::Merge),
                    Some("containerPort"),
                ),
                ("labels", labels, None, None),
            ],
            false,
        );
        let schema = b.schema;
        let c = schema.cursor(container);
        let (def, ports_c) = c.field("ports").expect("ports");
        assert_eq!(def.merge_key.as_deref(), Some("containerPort"));
        assert_eq!(
            ports_c.list_type(),
            Some(&ListType::Map(vec!["containerPort".into()]))
        );
        let item = ports_c.items().expect("items");
        assert!(item.field("containerPort").is_some());
        assert!(matches!(c.member("nope"), Member::Unknown));
        let (_, labels_c) = c.field("labels").expect("labels");
        assert!(matches!(labels_c.member("anything"), Member::Value(_)));
        assert!(!labels_c.is_atomic());
    }
}
