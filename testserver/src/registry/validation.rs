//! Validation of object metadata: the rules every kind shares (names, generateName,
//! namespace, labels, annotations, finalizers, owner references). Every problem is
//! returned, not only the first, so a 422 lists one cause per field.

use kubeforge_client::core::{FieldError, ObjectMeta, validation};

/// Annotations may total at most this many bytes (keys and values).
pub(crate) const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Which syntax a kind's object names must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// An RFC 1123 subdomain (most kinds).
    Subdomain,
    /// An RFC 1123 label (namespaces).
    Label,
    /// An RFC 1035 label: a label starting with a letter (services).
    Dns1035Label,
    /// Anything usable as one path segment (RBAC kinds).
    PathSegment,
}

impl NameRule {
    /// Problems with `name`; with `prefix`, `name` is a generateName prefix and may end
    /// in `-`.
    pub(crate) fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let name = if prefix && self != NameRule::PathSegment && name.ends_with('-') {
            masked = format!("{}a", &name[..name.len() - 1]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Subdomain => validation::dns1123_subdomain(name),
            NameRule::Label => validation::dns1123_label(name),
            NameRule::Dns1035Label => dns1035_label(name),
            NameRule::PathSegment => path_segment(name, prefix),
        }
    }
}

fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_lowercase()
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        errs.push(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with \
             an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or \
             'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
                .to_owned(),
        );
    }
    errs
}

fn path_segment(s: &str, prefix: bool) -> Vec<String> {
    let mut errs = Vec::new();
    if !prefix && (s == "." || s == "..") {
        errs.push(format!("may not be '{s}'"));
    }
    for bad in ['/', '%'] {
        if s.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// Validates the metadata of an object about to be written.
pub(crate) fn object_meta(meta: &ObjectMeta, namespaced: bool, rule: NameRule) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = meta.name.as_deref().unwrap_or_default();
    if let Some(g) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        for msg in rule.check(g, true) {
            errs.push(FieldError::invalid("metadata.generateName", g, &msg));
        }
    }
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for msg in rule.check(name, false) {
            errs.push(FieldError::invalid("metadata.name", name, &msg));
        }
    }
    let namespace = meta.namespace.as_deref().unwrap_or_default();
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in validation::dns1123_label(namespace) {
                errs.push(FieldError::invalid("metadata.namespace", namespace, &msg));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    if let Some(labels) = &meta.labels {
        for (k, v) in labels {
            for msg in validation::qualified_name(k) {
                errs.push(FieldError::invalid("metadata.labels", k.as_str(), &msg));
            }
            for msg in validation::label_value(v) {
                errs.push(FieldError::invalid("metadata.labels", v.as_str(), &msg));
            }
        }
    }
    if let Some(annotations) = &meta.annotations {
        let mut total = 0;
        for (k, v) in annotations {
            for msg in validation::qualified_name(&k.to_lowercase()) {
                errs.push(FieldError::invalid(
                    "metadata.annotations",
                    k.as_str(),
                    &msg,
                ));
            }
            total += k.len() + v.len();
        }
        if total > ANNOTATIONS_MAX_BYTES {
            errs.push(FieldError::too_long(
                "metadata.annotations",
                ANNOTATIONS_MAX_BYTES,
            ));
        }
    }
    if let Some(finalizers) = &meta.finalizers {
        for (i, f) in finalizers.iter().enumerate() {
            for msg in validation::qualified_name(f) {
                errs.push(FieldError::invalid(
                    &format!("metadata.finalizers[{i}]"),
                    f.as_str(),
                    &msg,
                ));
            }
        }
    }
    if let Some(owners) = &meta.owner_references {
        let mut controllers = 0;
        for (i, o) in owners.iter().enumerate() {
            let path = format!("metadata.ownerReferences[{i}]");
            if o.api_version.is_empty() {
                errs.push(FieldError::invalid(
                    &format!("{path}.apiVersion"),
                    "",
                    "version must not be empty",
                ));
            }
            if o.kind.is_empty() {
                errs.push(FieldError::invalid(
                    &format!("{path}.kind"),
                    "",
                    "kind must not be empty",
                ));
            }
            if o.name.is_empty() {
                errs.push(FieldError::invalid(
                    &format!("{path}.name"),
                    "",
                    "name must not be empty",
                ));
            }
            if o.uid.is_empty() {
                errs.push(FieldError::invalid(
                    &format!("{path}.uid"),
                    "",
                    "uid must not be empty",
                ));
            }
            if o.controller == Some(true) {
                controllers += 1;
            }
        }
        if controllers > 1 {
            errs.push(FieldError::invalid(
                "metadata.ownerReferences",
                kubeforge_client::core::FieldValue::Omitted,
                "Only one reference can have Controller set to true",
            ));
        }
    }
    errs
}

/// Validates what an update may not change.
pub(crate) fn object_meta_update(new: &ObjectMeta, old: &ObjectMeta) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let immutable =
        |field: &str, new: &Option<String>, old: &Option<String>, errs: &mut Vec<FieldError>| {
            if new != old {
                errs.push(FieldError::invalid(
                    field,
                    new.clone().unwrap_or_default(),
                    "field is immutable",
                ));
            }
        };
    immutable("metadata.name", &new.name, &old.name, &mut errs);
    immutable(
        "metadata.namespace",
        &new.namespace,
        &old.namespace,
        &mut errs,
    );
    immutable("metadata.uid", &new.uid, &old.uid, &mut errs);
    immutable(
        "metadata.creationTimestamp",
        &new.creation_timestamp,
        &old.creation_timestamp,
        &mut errs,
    );
    if old.deletion_timestamp.is_some() {
        let old_f: std::collections::BTreeSet<&String> = old.finalizers.iter().flatten().collect();
        for f in new.finalizers.iter().flatten() {
            if !old_f.contains(f) {
                errs.push(FieldError::forbidden(
                    "metadata.finalizers",
                    &format!("no new finalizers can be added if the object is being deleted, found new finalizers [\"{f}\"]"),
                ));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: ns.map(str::to_owned),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn names_follow_the_kind_rule() {
        assert!(object_meta(&meta("ok.name", Some("ns")), true, NameRule::Subdomain).is_empty());
        assert_eq!(
            object_meta(&meta("Bad", Some("ns")), true, NameRule::Subdomain).len(),
            1
        );
        assert_eq!(
            object_meta(&meta("a.b", None), false, NameRule::Label).len(),
            1
        );
        assert_eq!(
            object_meta(&meta("1svc", Some("ns")), true, NameRule::Dns1035Label).len(),
            1
        );
        assert!(object_meta(&meta("system:admin", None), false, NameRule::PathSegment).is_empty());
        assert_eq!(
            object_meta(&meta("a/b", None), false, NameRule::PathSegment).len(),
            1
        );
        // generateName prefixes may end with a dash
        let generated = ObjectMeta {
            generate_name: Some("web-".into()),
            name: Some("web-x7k2p".into()),
            namespace: Some("ns".into()),
            ..ObjectMeta::default()
        };
        assert!(object_meta(&generated, true, NameRule::Subdomain).is_empty());
    }

    #[test]
    fn every_bad_field_gets_its_own_cause() {
        let m = ObjectMeta {
            name: Some("Bad_Name".into()),
            namespace: Some("ns".into()),
            labels: Some(BTreeMap::from([("bad key".to_owned(), "-bad".to_owned())])),
            annotations: Some(BTreeMap::from([(
                "a".to_owned(),
                "x".repeat(ANNOTATIONS_MAX_BYTES),
            )])),
            ..ObjectMeta::default()
        };
        let errs = object_meta(&m, true, NameRule::Subdomain);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "metadata.name",
                "metadata.labels",
                "metadata.labels",
                "metadata.annotations"
            ]
        );
    }

    #[test]
    fn namespace_presence_follows_the_scope() {
        let errs = object_meta(&meta("a", None), true, NameRule::Subdomain);
        assert_eq!(errs[0].field, "metadata.namespace");
        let errs = object_meta(&meta("a", Some("ns")), false, NameRule::Subdomain);
        assert_eq!(errs[0].field, "metadata.namespace");
    }
}
