//! GET of one object (and of `/status`, which reads the same object).

use kubeforge_client::core::{GetOptions, Status, parse_resource_version};

use super::negotiation::{Accepts, negotiate};
use super::respond::Response;
use super::{Ctx, table};
use crate::apiserver::{ApiError, ApiResult};
use crate::cache::{CacheError, WatchCache};
use crate::registry::store;

/// Waits until the cache may serve a read at `rv` (unset: consistent; `0`: any;
/// `N`: not older than N).
pub(super) async fn fresh_for(
    ctx: &Ctx<'_>,
    cache: &WatchCache,
    rv: Option<&str>,
) -> ApiResult<()> {
    let result = match rv {
        None => cache.wait_fresh().await.map(|_| ()),
        // Any state will do, but a cache that has never heard of a revision would
        // answer with resourceVersion "0", which a client cannot watch from (it means
        // "any" there too, and the watch would start with the state again): such a
        // cache catches up first, once. kube-apiserver's caches start at the
        // revision of their initial list, so they never answer "0".
        Some("0") if cache.revision() == 0 => cache.wait_fresh().await.map(|_| ()),
        Some("0") => Ok(()),
        Some(rv) => {
            let rev = parse_resource_version(rv).map_err(|e| {
                ApiError::from(Status::bad_request(format!(
                    "invalid resource version: {e}"
                )))
            })?;
            cache.wait_for(rev).await
        }
    };
    result.map_err(|e| cache_error(ctx, e))
}

/// Maps a cache failure to a `Status`.
pub(super) fn cache_error(ctx: &Ctx<'_>, e: CacheError) -> ApiError {
    match e {
        CacheError::TooLargeResourceVersion { wanted, current } => {
            store::too_large_rv(wanted, current)
        }
        CacheError::Storage(e) => {
            store::storage_status(&ctx.res.group_resource(), &ctx.info.name, e)
        }
    }
}

pub(super) async fn get(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let opts = GetOptions::from_query(ctx.query);
    let output = negotiate(
        ctx.header(http::header::ACCEPT),
        Accepts {
            table: true,
            metadata: true,
        },
    )?;
    let cache = ctx.cache()?;
    fresh_for(ctx, cache, opts.resource_version.as_deref()).await?;
    let name = &ctx.info.name;
    let key = ctx.res.key(ctx.namespace, name).unwrap_or_default();
    let Some(obj) = cache.get(&key) else {
        return Err(Status::not_found(&ctx.res.group_resource(), name).into());
    };
    let bytes = ctx.served(&obj)?;
    table::render_one(ctx, output, bytes)
}
