//! Ownership bookkeeping of one write (structured-merge-diff's `merge.Updater`): who
//! owns which fields after an apply or an update, which fields an apply conflicts on,
//! and which fields an applier gave up and nobody else holds (pruned from the object).
//!
//! Managers are keyed by their identifier (see [`managed`](super::managed)); API
//! versions are labels only: every manager's fields are compared in the one schema
//! the caller passes (upstream converts the object to each manager's version first).

use std::collections::BTreeMap;

use serde_json::Value;

use super::merge::{Comparison, compare, merge, remove_items};
use super::path::{Path, values_equal};
use super::set::FieldSet;
use super::typed::{
    Ty, ensure_named_fields_are_members, format_errors, reconcile_with_schema, to_field_set,
};

/// One manager's fields, the API version they were recorded in, and whether they came
/// from an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionedSet {
    pub(crate) set: FieldSet,
    pub(crate) api_version: String,
    pub(crate) applied: bool,
}

/// Every manager's fields, by manager identifier.
pub(crate) type ManagedFields = BTreeMap<String, VersionedSet>;

/// Why an ownership update failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpdateError {
    /// An apply changes fields other managers own: (manager identifier, field), grouped
    /// by manager in identifier order.
    Conflicts(Vec<(String, Path)>),
    /// The objects could not be walked (they do not fit the schema).
    Invalid(String),
}

/// Takes `changed` and `removed` away from every manager but `workflow`, dropping
/// managers left with nothing (a forced change: conflicts were dealt with before).
fn take(
    mut managers: ManagedFields,
    workflow: &str,
    changed: &FieldSet,
    removed: &FieldSet,
) -> ManagedFields {
    for (manager, vs) in managers.iter_mut() {
        if manager != workflow {
            vs.set.subtract(changed);
            vs.set.subtract(removed);
        }
    }
    managers.retain(|_, vs| !vs.set.is_empty());
    managers
}

/// Computes ownership for writes to objects of one type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Updater<'a> {
    pub(crate) ty: Ty<'a>,
    /// Fields the endpoint resets (the strategy's reset fields): never owned, never a
    /// conflict (upstream's `IgnoreFilter`).
    pub(crate) ignore: Option<&'a FieldSet>,
}

impl Updater<'_> {
    fn filter(&self, mut set: FieldSet) -> FieldSet {
        if let Some(ignore) = self.ignore {
            set.subtract_recursive(ignore);
        }
        set
    }

    /// Rewrites each manager's set for schema changes (atomic now where it was not).
    fn reconcile(&self, managers: &mut ManagedFields) {
        for vs in managers.values_mut() {
            if let Some(set) = reconcile_with_schema(&vs.set, self.ty) {
                vs.set = set;
            }
        }
    }

    /// Takes what `new` changed relative to `old` away from every manager but
    /// `workflow`; an error listing the conflicts when a manager loses a field it owned
    /// and `force` is off.
    fn take_changed(
        &self,
        old: &Value,
        new: &Value,
        managers: ManagedFields,
        workflow: &str,
        force: bool,
    ) -> Result<(ManagedFields, Comparison), UpdateError> {
        let mut cmp = compare(self.ty, old, new).map_err(|e| {
            UpdateError::Invalid(format!("failed to compare objects: {}", format_errors(&e)))
        })?;
        if let Some(ignore) = self.ignore {
            cmp.exclude(ignore);
        }
        let changed = cmp.modified.union(&cmp.added);
        if !force {
            let mut conflicts: Vec<(String, Path)> = Vec::new();
            for (manager, vs) in &managers {
                if manager != workflow {
                    let lost = vs.set.intersection(&changed);
                    conflicts.extend(lost.paths().into_iter().map(|p| (manager.clone(), p)));
                }
            }
            if !conflicts.is_empty() {
                return Err(UpdateError::Conflicts(conflicts));
            }
        }
        let managers = take(managers, workflow, &changed, &cmp.removed);
        Ok((managers, cmp))
    }

    /// Records a non-apply write: `manager` owns what it changed, others lose it
    /// (structured-merge-diff's `Updater.Update`).
    pub(crate) fn update(
        &self,
        live: &Value,
        new: &Value,
        version: &str,
        managers: ManagedFields,
        manager: &str,
    ) -> Result<ManagedFields, UpdateError> {
        let cmp = compare(self.ty, live, new).map_err(|e| {
            UpdateError::Invalid(format!("failed to compare objects: {}", format_errors(&e)))
        })?;
        Ok(self.update_compared(cmp, version, managers, manager))
    }

    /// [`update`](Self::update) with the objects compared already.
    pub(crate) fn update_compared(
        &self,
        mut cmp: Comparison,
        version: &str,
        mut managers: ManagedFields,
        manager: &str,
    ) -> ManagedFields {
        self.reconcile(&mut managers);
        if let Some(ignore) = self.ignore {
            cmp.exclude(ignore);
        }
        let changed = cmp.modified.union(&cmp.added);
        let mut managers = take(managers, manager, &changed, &cmp.removed);
        let mut set = managers
            .remove(manager)
            .map(|vs| vs.set)
            .unwrap_or_default();
        set.subtract(&cmp.removed);
        set.union_with(cmp.modified);
        set.union_with(cmp.added);
        let set = self.filter(set);
        if !set.is_empty() {
            managers.insert(
                manager.to_owned(),
                VersionedSet {
                    set,
                    api_version: version.to_owned(),
                    applied: false,
                },
            );
        }
        managers
    }

    /// Merges an applied configuration into `live` and records `manager` as the owner of
    /// exactly the configuration's fields (structured-merge-diff's `Updater.Apply`).
    /// Returns the new object (`None` when it equals `live`) and the managers.
    pub(crate) fn apply(
        &self,
        live: &Value,
        config: &Value,
        version: &str,
        managers: ManagedFields,
        manager: &str,
        force: bool,
    ) -> Result<(Option<Value>, ManagedFields), UpdateError> {
        let mut managers = managers;
        self.reconcile(&mut managers);
        let merged = merge(self.ty, live, config).map_err(|e| {
            UpdateError::Invalid(format!("failed to merge config: {}", format_errors(&e)))
        })?;
        let last = managers.get(manager).cloned();
        let set = self.filter(to_field_set(self.ty, config));
        managers.insert(
            manager.to_owned(),
            VersionedSet {
                set,
                api_version: version.to_owned(),
                applied: true,
            },
        );
        let new = self.prune(merged, &managers, last.as_ref());
        let (managers, _) = self.take_changed(live, &new, managers, manager, force)?;
        let new = (!values_equal(live, &new)).then_some(new);
        Ok((new, managers))
    }

    /// Removes from `merged` the fields and items `manager` applied last time, no longer
    /// applies, and nobody else owns (structured-merge-diff's `Updater.prune` with its
    /// add-back passes).
    fn prune(&self, merged: Value, managers: &ManagedFields, last: Option<&VersionedSet>) -> Value {
        let Some(last) = last.filter(|l| !l.set.is_empty()) else {
            return merged;
        };
        let ensure = |s: &FieldSet| ensure_named_fields_are_members(s, Some(self.ty));
        let last_set = ensure(&last.set);
        let pruned = remove_items(self.ty, &merged, &last_set);

        // Add back what any manager (including this apply) owns, one API version at a
        // time, the pruned manager's version first, as upstream does.
        let mut by_version: BTreeMap<&str, FieldSet> = BTreeMap::new();
        for vs in managers.values() {
            let entry = by_version.entry(vs.api_version.as_str()).or_default();
            *entry = entry.union(&vs.set);
        }
        let mut versions: Vec<&str> = by_version.keys().copied().collect();
        if let Some(i) = versions.iter().position(|v| *v == last.api_version) {
            let first = versions.remove(i);
            versions.insert(0, first);
        }
        let merged_set = ensure(&to_field_set(self.ty, &merged));
        let mut pruned = pruned;
        for version in versions {
            let Some(owned) = by_version.get(version) else {
                continue;
            };
            let pruned_set = ensure(&to_field_set(self.ty, &pruned));
            let drop = merged_set.difference(&pruned_set.union(&ensure(owned)));
            pruned = remove_items(self.ty, &merged, &drop);
        }

        // Only what the applier itself gave up may go: add back dangling items nobody
        // applied last time (unowned, or owned through updates).
        let pruned_set = ensure(&to_field_set(self.ty, &pruned));
        let drop = merged_set.difference(&pruned_set).intersection(&last_set);
        remove_items(self.ty, &merged, &drop)
    }
}
