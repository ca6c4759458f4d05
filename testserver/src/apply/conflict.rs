//! Apply conflicts and the 409 messages upstream builds from them
//! (apimachinery's `internal/conflict.go`).

use super::gojson::go_quote;
use super::managed::{ManagerInfo, Operation};

/// A field an apply would change that another manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The other manager's name.
    pub(crate) manager: String,
    /// How the other manager wrote the field.
    pub(crate) operation: Operation,
    /// The API version of the other manager's entry.
    pub(crate) api_version: String,
    /// The other manager's subresource (`""` for the main resource).
    pub(crate) subresource: String,
    /// The field, as upstream prints paths (`.spec.replicas`,
    /// `.spec.containers[name="c"].image`).
    pub(crate) path: String,
}

impl Conflict {
    /// Builds a conflict from the other manager's identifier (see
    /// [`ManagerInfo::identifier`]).
    pub(crate) fn from_identifier(id: &str, api_version: &str, path: String) -> Self {
        match ManagerInfo::parse(id) {
            Some(info) => Self {
                manager: info.manager,
                operation: info.operation,
                api_version: api_version.to_owned(),
                subresource: info.subresource,
                path,
            },
            None => Self {
                manager: id.to_owned(),
                operation: Operation::Update,
                api_version: api_version.to_owned(),
                subresource: String::new(),
                path,
            },
        }
    }

    /// The other manager's identifier; conflicts are grouped and sorted by it.
    pub(crate) fn manager_identifier(&self) -> String {
        ManagerInfo {
            manager: self.manager.clone(),
            operation: self.operation,
            api_version: self.api_version.clone(),
            subresource: self.subresource.clone(),
        }
        .identifier()
    }

    /// The manager as messages name it: `"m"`, `"m" with subresource "status"`, and for
    /// updaters `… using apps/v1` (upstream's `printManager`).
    fn printed_manager(&self) -> String {
        let mut out = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            out.push_str(" with subresource ");
            out.push_str(&go_quote(&self.subresource));
        }
        if self.operation == Operation::Update {
            out.push_str(" using ");
            out.push_str(&self.api_version);
        }
        out
    }
}

/// The message of the 409 for `conflicts`, exactly as upstream words it:
/// `Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas`, or
/// for several, one `conflicts with "m":` block per manager (sorted by manager
/// identifier) listing `- <path>` lines.
pub(crate) fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.printed_manager(),
            c.path
        );
    }
    let mut groups: Vec<(String, &Conflict, Vec<&str>)> = Vec::new();
    for c in conflicts {
        let id = c.manager_identifier();
        match groups.iter_mut().find(|(g, _, _)| *g == id) {
            Some((_, _, paths)) => paths.push(&c.path),
            None => groups.push((id, c, vec![c.path.as_str()])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lines = Vec::new();
    for (_, c, paths) in &groups {
        lines.push(format!("conflicts with {}:", c.printed_manager()));
        lines.extend(paths.iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The message of one conflict's status cause (`type: FieldManagerConflict`,
/// `field: <path>`): `conflict with "m" using apps/v1`.
pub(crate) fn cause_message(c: &Conflict) -> String {
    format!("conflict with {}", c.printed_manager())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(manager: &str, op: Operation, version: &str, sub: &str, path: &str) -> Conflict {
        Conflict {
            manager: manager.into(),
            operation: op,
            api_version: version.into(),
            subresource: sub.into(),
            path: path.into(),
        }
    }

    #[test]
    fn messages_are_worded_as_upstream() {
        // Rows mirror apimachinery's TestNewConflictError (entries there carry a time,
        // which real manager identifiers never do, so ours print none): conflicts,
        // 409 message, cause messages.
        let rows = vec![
            // One conflict with an updater: its API version is named.
            (
                vec![conflict(
                    "foo",
                    Operation::Update,
                    "v1",
                    "",
                    ".spec.replicas",
                )],
                r#"Apply failed with 1 conflict: conflict with "foo" using v1: .spec.replicas"#,
                vec![r#"conflict with "foo" using v1"#],
            ),
            // Two managers: grouped, sorted by identifier ("bar" before "foo").
            (
                vec![
                    conflict("foo", Operation::Update, "v1", "", ".spec.replicas"),
                    conflict("bar", Operation::Apply, "v1", "", ".metadata.labels.app"),
                ],
                "Apply failed with 2 conflicts: conflicts with \"bar\":\n- .metadata.labels.app\nconflicts with \"foo\" using v1:\n- .spec.replicas",
                vec![r#"conflict with "foo" using v1"#, r#"conflict with "bar""#],
            ),
            // A subresource manager.
            (
                vec![conflict(
                    "foo",
                    Operation::Update,
                    "v1",
                    "scale",
                    ".spec.replicas",
                )],
                r#"Apply failed with 1 conflict: conflict with "foo" with subresource "scale" using v1: .spec.replicas"#,
                vec![r#"conflict with "foo" with subresource "scale" using v1"#],
            ),
            // Several fields of one applier.
            (
                vec![
                    conflict("kubectl", Operation::Apply, "apps/v1", "", ".spec.replicas"),
                    conflict(
                        "kubectl",
                        Operation::Apply,
                        "apps/v1",
                        "",
                        r#".spec.template.spec.containers[name="nginx"].image"#,
                    ),
                ],
                "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image",
                vec![r#"conflict with "kubectl""#, r#"conflict with "kubectl""#],
            ),
        ];
        for (conflicts, message, causes) in rows {
            assert_eq!(conflict_message(&conflicts), message);
            let got: Vec<String> = conflicts.iter().map(cause_message).collect();
            assert_eq!(got, causes);
        }
    }
}
