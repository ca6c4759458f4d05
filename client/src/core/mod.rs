//! API machinery vocabulary: no I/O, no async runtime.
//!
//! Everything here is shared by clients and the kubeforge apiserver: names of groups,
//! versions, kinds and resources; object metadata; selectors; `Status` and errors;
//! watch events; and the query parameters of list, watch, get, write and delete calls.

mod error;
mod field_error;
mod gvk;
mod meta;
mod params;
mod resource;
mod resource_version;
pub mod selector;
mod status;
pub mod validation;
mod watch;

pub use error::Error;
pub use field_error::{FieldError, FieldErrorType, FieldValue};
pub use gvk::{GroupKind, GroupResource, GroupVersion, GroupVersionKind, GroupVersionResource};
pub use meta::{ListMeta, ManagedFieldsEntry, ObjectMeta, ObjectMetaExt, OwnerReference, TypeMeta};
pub use params::{
    CreateOptions, DeleteOptions, DryRun, FieldValidation, GetOptions, ListOptions,
    ParseParamsError, PatchOptions, Preconditions, PropagationPolicy, UpdateOptions,
};
pub use resource::{ApiResource, Scope};
pub use resource_version::{ResourceVersionMatch, parse_resource_version};
pub use selector::{FieldSelector, LabelSelector, ParseSelectorError};
pub use status::{CauseType, Status, StatusCause, StatusDetails, StatusReason};
pub use watch::{Bookmark, BookmarkMeta, INITIAL_EVENTS_END_ANNOTATION, WatchEvent};
