//! Delete and deletecollection: preconditions, finalizers and `deletionTimestamp`,
//! graceful deletion of pods, namespace termination, and the response body each kind
//! answers with.

use bytes::Bytes;
use kubeforge_client::core::{
    DeleteOptions, ObjectMetaExt, PropagationPolicy, Status, StatusDetails,
};
use serde_json::{Map, Value, json};

use super::store::{Current, Store, Written, meta_of, set_meta, storage_status, timestamp};
use crate::apiserver::{ApiError, ApiResult};
use crate::storage;

/// Namespaces that may never be deleted.
const UNDELETABLE_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// What a delete did.
#[derive(Debug)]
pub(crate) struct Deleted {
    /// The response: the object, or a `Success` status.
    pub(crate) written: Written,
    /// Whether the object is gone (false: it is marked for deletion).
    pub(crate) gone: bool,
}

impl Store<'_> {
    fn is_kind(&self, group: &str, kind: &str) -> bool {
        self.res.gvk.group == group && self.res.gvk.kind == kind
    }

    /// The body of a delete that removed the object: the object itself for kinds whose
    /// store returns it, else a `Success` status naming it.
    fn deleted_body(&self, name: &str, uid: &str, served: Bytes) -> Bytes {
        if self.res.strategy.return_deleted_object {
            return served;
        }
        let status = Status::success(StatusDetails {
            name: name.to_owned(),
            group: self.res.gvk.group.clone(),
            kind: self.res.plural.clone(),
            uid: uid.to_owned(),
            ..StatusDetails::default()
        });
        Bytes::from(serde_json::to_vec(&status).unwrap_or_default())
    }

    /// DELETE of one object.
    pub(crate) async fn delete(
        &self,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> ApiResult<Deleted> {
        let errs = opts.validate();
        if !errs.is_empty() {
            return Err(Status::invalid(
                &kubeforge_client::core::GroupKind::new("meta.k8s.io", "DeleteOptions"),
                "",
                &errs,
            )
            .into());
        }
        if self.is_kind("", "Namespace") && UNDELETABLE_NAMESPACES.contains(&name) {
            return Err(Status::forbidden(
                &self.res.group_resource(),
                name,
                "this namespace may not be deleted",
            )
            .into());
        }
        loop {
            let Some(cur) = self.current(ns, name).await? else {
                return Err(Status::not_found(&self.res.group_resource(), name).into());
            };
            check_preconditions(self, name, &cur, opts)?;
            match self.delete_once(ns, name, &cur, opts).await {
                Err(DeleteError::Conflict) => continue,
                Err(DeleteError::Api(e)) => return Err(e),
                Ok(d) => return Ok(d),
            }
        }
    }

    async fn delete_once(
        &self,
        ns: &str,
        name: &str,
        cur: &Current,
        opts: &DeleteOptions,
    ) -> Result<Deleted, DeleteError> {
        let mut obj = cur.obj.clone();
        let mut meta = meta_of(self.res, &obj)?;
        let uid = meta.uid.clone().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let namespace_kind = self.is_kind("", "Namespace");

        if namespace_kind {
            let spec_finalizers = obj
                .get("spec")
                .and_then(|s| s.get("finalizers"))
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
            if meta.deletion_timestamp.is_some() && spec_finalizers {
                return Err(DeleteError::Api(
                    Status::conflict(
                        &self.res.group_resource(),
                        name,
                        "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
                    )
                    .into(),
                ));
            }
            if spec_finalizers {
                self.server
                    .terminating_namespaces
                    .lock()
                    .insert(name.to_owned());
                meta.deletion_timestamp = Some(timestamp(now));
                meta.deletion_grace_period_seconds = Some(0);
                set_meta(&mut obj, &meta);
                if let Some(Value::Object(status)) = obj.get_mut("status") {
                    status.insert("phase".into(), json!("Terminating"));
                } else {
                    obj.insert("status".into(), json!({"phase": "Terminating"}));
                }
                return self.mark(ns, name, cur, obj, opts).await;
            }
        }

        // Finalizers the propagation policy asks for.
        let mut finalizers = meta.finalizers.clone().unwrap_or_default();
        if meta.deletion_timestamp.is_none() {
            let policy = match (&opts.propagation_policy, opts.orphan_dependents) {
                (Some(p), _) => Some(p.clone()),
                (None, Some(true)) => Some(PropagationPolicy::Orphan),
                _ => None,
            };
            let extra = match policy {
                Some(PropagationPolicy::Orphan) => Some("orphan"),
                Some(PropagationPolicy::Foreground) => Some("foregroundDeletion"),
                _ => None,
            };
            if let Some(f) = extra
                && !finalizers.iter().any(|x| x == f)
            {
                finalizers.push(f.to_owned());
            }
        }

        // Graceful deletion (pods): only a pod bound to an existing node waits for its
        // grace period, since only a kubelet would end it earlier.
        let grace = if self.is_kind("", "Pod") {
            self.pod_grace(&obj, opts).await
        } else {
            0
        };

        if !finalizers.is_empty() || grace > 0 {
            if meta.deletion_timestamp.is_some()
                && grace >= meta.deletion_grace_period_seconds.unwrap_or(0)
            {
                // Already being deleted: only a shorter grace period changes anything.
                return Ok(Deleted {
                    written: Written {
                        bytes: self.serve(&cur.kv.value, cur.kv.mod_revision)?,
                        code: 200,
                    },
                    gone: false,
                });
            }
            meta.finalizers = (!finalizers.is_empty()).then_some(finalizers);
            meta.deletion_grace_period_seconds = Some(grace);
            // Grace periods are unbounded upstream; a far-future deadline saturates.
            let deadline = now
                .checked_add(jiff::SignedDuration::from_secs(grace))
                .unwrap_or(jiff::Timestamp::MAX);
            meta.deletion_timestamp = Some(timestamp(deadline));
            if self.res.strategy.generation {
                meta.generation = Some(meta.generation.unwrap_or(0) + 1);
            }
            set_meta(&mut obj, &meta);
            return self.mark(ns, name, cur, obj, opts).await;
        }

        // Nothing holds it: remove it now.
        let served = self.serve(&cur.kv.value, cur.kv.mod_revision)?;
        if opts.is_dry_run() {
            return Ok(Deleted {
                written: Written {
                    bytes: self.deleted_body(name, &uid, served),
                    code: 200,
                },
                gone: true,
            });
        }
        let key = self.res.key(ns, name).unwrap_or_default();
        match self
            .server
            .storage
            .delete(&key, Some(cur.kv.mod_revision))
            .await
        {
            // The deleted object is served at the delete's revision, as upstream does: a
            // client watching from it does not see its own delete again.
            Ok((_, rev)) => {
                if self.is_kind("", "Service") {
                    self.server
                        .allocators
                        .release_service(&Value::Object(cur.obj.clone()));
                }
                Ok(Deleted {
                    written: Written {
                        bytes: self.deleted_body(name, &uid, self.serve(&cur.kv.value, rev)?),
                        code: 200,
                    },
                    gone: true,
                })
            }
            Err(storage::Error::Conflict { .. } | storage::Error::KeyNotFound { .. }) => {
                Err(DeleteError::Conflict)
            }
            Err(e) => Err(storage_status(&self.res.group_resource(), name, e).into()),
        }
    }

    /// Writes the object marked for deletion; answers 200 with it.
    async fn mark(
        &self,
        ns: &str,
        name: &str,
        cur: &Current,
        mut obj: Map<String, Value>,
        opts: &DeleteOptions,
    ) -> Result<Deleted, DeleteError> {
        if let Some(Value::Object(m)) = obj.get_mut("metadata") {
            m.remove("resourceVersion");
        }
        let bytes = crate::object::encode(&if super::convert::stored_as(self.res).is_some() {
            super::convert::to_storage(self.res, obj)
        } else {
            obj
        });
        if opts.is_dry_run() {
            return Ok(Deleted {
                written: Written {
                    bytes: self.serve(&bytes, cur.kv.mod_revision)?,
                    code: 200,
                },
                gone: false,
            });
        }
        let key = self.res.key(ns, name).unwrap_or_default();
        match self
            .server
            .storage
            .update(&key, bytes.clone(), cur.kv.mod_revision)
            .await
        {
            Ok(kv) => Ok(Deleted {
                written: Written {
                    bytes: self.serve(&bytes, kv.mod_revision)?,
                    code: 200,
                },
                gone: false,
            }),
            Err(storage::Error::Conflict { .. }) => Err(DeleteError::Conflict),
            Err(e) => Err(storage_status(&self.res.group_resource(), name, e).into()),
        }
    }

    /// The grace period of a pod delete: 0 for pods not bound to an existing node and
    /// for finished pods; otherwise the requested period or the pod's own.
    async fn pod_grace(&self, pod: &Map<String, Value>, opts: &DeleteOptions) -> i64 {
        let node = pod
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let phase = pod
            .get("status")
            .and_then(|s| s.get("phase"))
            .and_then(Value::as_str);
        if node.is_empty() || matches!(phase, Some("Succeeded" | "Failed")) {
            return 0;
        }
        let node_exists = match self.server.registry.lookup("", "v1", "nodes") {
            Some(nodes) => matches!(
                Store::new(self.server, nodes).current("", node).await,
                Ok(Some(_))
            ),
            None => false,
        };
        if !node_exists {
            // Without a node there is no kubelet to finish the pod; upstream's pod garbage
            // collector would delete it as orphaned. We do that at once.
            return 0;
        }
        let requested = opts.grace_period_seconds.or_else(|| {
            pod.get("spec")
                .and_then(|s| s.get("terminationGracePeriodSeconds"))
                .and_then(Value::as_i64)
        });
        match requested {
            Some(g) if g < 0 => 1,
            Some(g) => g,
            None => 30,
        }
    }

    /// DELETE on a collection: deletes every match with the same options; answers the
    /// list of the matched objects (as they were when listed), as upstream does.
    pub(crate) async fn delete_collection(
        &self,
        ns: &str,
        items: Vec<(String, Bytes)>,
        opts: &DeleteOptions,
    ) -> ApiResult<Bytes> {
        let mut deleted: Vec<Bytes> = Vec::new();
        for (name, bytes) in items {
            match self.delete(ns, &name, opts).await {
                Ok(_) => deleted.push(bytes),
                Err(e) if e.0.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"kind\":\"");
        out.extend_from_slice(self.res.list_kind().as_bytes());
        out.extend_from_slice(b"\",\"apiVersion\":\"");
        out.extend_from_slice(self.res.api_version().as_bytes());
        out.extend_from_slice(b"\",\"metadata\":{},\"items\":[");
        for (i, item) in deleted.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item);
        }
        out.extend_from_slice(b"]}");
        Ok(Bytes::from(out))
    }
}

fn check_preconditions(
    store: &Store<'_>,
    name: &str,
    cur: &Current,
    opts: &DeleteOptions,
) -> ApiResult<()> {
    let Some(pre) = &opts.preconditions else {
        return Ok(());
    };
    let gr = store.res.group_resource();
    if let Some(uid) = &pre.uid {
        let actual = cur.obj.uid().unwrap_or_default();
        if uid != actual {
            return Err(Status::conflict(
                &gr,
                name,
                &format!(
                    "the UID in the precondition ({uid}) does not match the UID in record ({actual}). The object might have been deleted and then recreated"
                ),
            )
            .into());
        }
    }
    if let Some(rv) = &pre.resource_version {
        let actual = cur.kv.mod_revision.to_string();
        if *rv != actual {
            return Err(Status::conflict(
                &gr,
                name,
                &format!(
                    "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({actual}). The object might have been modified"
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Why a delete attempt did not finish.
#[derive(Debug)]
enum DeleteError {
    Conflict,
    Api(ApiError),
}

impl From<ApiError> for DeleteError {
    fn from(e: ApiError) -> Self {
        DeleteError::Api(e)
    }
}
