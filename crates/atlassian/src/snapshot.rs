//! Assembling a [`TargetSnapshot`] from a product's users and groups: the part of
//! a full read that is the same for Jira and Confluence (every group's members,
//! read a bounded number of groups at a time).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::{StreamExt as _, TryStreamExt as _};
use usersync_core::{GroupName, TargetGroup, TargetSnapshot, TargetUser, Username};

use crate::{TargetError, TargetResult};

/// The snapshot of `users` and `groups`, with each group's members read through
/// `members`, at most `concurrency` (at least 1) groups at once. The first failed
/// read fails the whole snapshot: a partial one would make the engine remove
/// memberships it merely did not see.
pub(crate) async fn assemble<F, Fut>(
    users: Vec<TargetUser>,
    groups: Vec<GroupName>,
    concurrency: usize,
    members: F,
) -> TargetResult<TargetSnapshot>
where
    F: Fn(GroupName) -> Fut,
    Fut: Future<Output = TargetResult<BTreeSet<Username>>>,
{
    let memberships: BTreeMap<GroupName, BTreeSet<Username>> =
        futures::stream::iter(groups.iter().cloned())
            .map(|g| {
                let read = members(g.clone());
                async move { Ok::<_, TargetError>((g, read.await?)) }
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
    let groups = groups
        .into_iter()
        .map(|name| TargetGroup {
            name,
            managed_elsewhere: false,
        })
        .collect();
    Ok(TargetSnapshot {
        users,
        groups,
        memberships,
    })
}
