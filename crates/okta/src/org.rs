//! The full read of an org: users, groups and every group's members, as one snapshot.
//!
//! Request count of a full read, retries excluded (the integration tests assert it):
//!
//! ```text
//! pages(users, 200) + pages(groups, 200) + sum over read groups of pages(members_g, P)
//! ```
//!
//! where `P` is `page_sizes.group_members` (200 by default) and `pages(n, size)` is
//! the number of pages Okta returns: `ceil(n / size)`, but at least 1, because even
//! an empty listing takes one request. With `skip_empty_groups`, groups whose
//! `expand=stats` `usersCount` is 0 are not read, so the sum runs only over groups
//! with members and the count is exactly the issue's
//! `ceil(users/200) + ceil(groups/200) + sum ceil(members/P)` for non-empty orgs.
//!
//! Completeness never lies: the snapshot is `Complete` only when every page of
//! every listing was read and every object was understood. When the user listing
//! fails before a single user was read, `read_org` returns the error instead (a
//! wrong token, for example): there is nothing usable. Any later failure (more
//! user pages, the group listing, one group's members) leaves a snapshot marked
//! `Incomplete` with one reason per failure, naming the listing or group and the error.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use futures::StreamExt;
use usersync_core::{
    Completeness, OktaGroup, OktaGroupId, OktaGroupType, OktaSnapshot, OktaUser, OktaUserId,
};

use crate::users::Listing;
use crate::wire::{WireGroup, WireUser};
use crate::{OktaClient, OktaError};

/// What a full read covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadScope {
    /// Group types to read (pushed into the query as `filter=type eq ...`); empty
    /// means every type.
    pub group_types: Vec<OktaGroupType>,
    /// Ask for `expand=stats` and skip member reads of groups whose `usersCount` is 0.
    /// Fewer requests; it relies on Okta's member counts being current, so it is off
    /// by default.
    pub skip_empty_groups: bool,
}

/// Where a full read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPhase {
    UsersAndGroups,
    Members,
    Done,
}

/// Progress of a full read, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadProgress {
    pub phase: ReadPhase,
    pub users_read: usize,
    pub groups_read: usize,
    /// Groups whose members have been read (or failed).
    pub groups_with_members_read: usize,
    /// Groups whose members will be read; known once the group listing is done.
    pub groups_with_members_total: Option<usize>,
}

/// Shares progress between concurrent reads and reports every change.
struct Tracker<'a> {
    state: Mutex<ReadProgress>,
    report: &'a (dyn Fn(&ReadProgress) + Send + Sync),
}

impl Tracker<'_> {
    fn update(&self, change: impl FnOnce(&mut ReadProgress)) {
        let snapshot = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut state);
            *state
        };
        (self.report)(&snapshot);
    }
}

impl OktaClient {
    /// Reads the whole org: every user, the groups in scope and their members.
    ///
    /// # Errors
    /// Only when the first page of the user listing fails (nothing usable was
    /// read); every other failure is recorded in the snapshot's completeness.
    pub async fn read_org(&self, scope: &ReadScope) -> Result<OktaSnapshot, OktaError> {
        self.read_org_with_progress(scope, &|_| {}).await
    }

    /// [`read_org`](Self::read_org), calling `progress` after every page and group.
    ///
    /// # Errors
    /// As [`read_org`](Self::read_org).
    pub async fn read_org_with_progress(
        &self,
        scope: &ReadScope,
        progress: &(dyn Fn(&ReadProgress) + Send + Sync),
    ) -> Result<OktaSnapshot, OktaError> {
        let tracker = Tracker {
            state: Mutex::new(ReadProgress {
                phase: ReadPhase::UsersAndGroups,
                users_read: 0,
                groups_read: 0,
                groups_with_members_read: 0,
                groups_with_members_total: None,
            }),
            report: progress,
        };
        let (users, groups) =
            tokio::join!(self.read_users(&tracker), self.read_groups(scope, &tracker));
        let mut completeness = Completeness::Complete;
        let users = match users {
            (users, Some(err)) if users.items.is_empty() => return Err(err),
            (users, Some(err)) => {
                completeness.add_reason(format!(
                    "the user listing stopped after {} users: {err}",
                    users.items.len()
                ));
                users
            }
            (users, None) => users,
        };
        let (groups, counts, group_error) = groups;
        if let Some(err) = group_error {
            completeness.add_reason(format!(
                "the group listing stopped after {} groups: {err}",
                groups.items.len()
            ));
        }
        for reason in users.unusable.iter().chain(&groups.unusable) {
            completeness.add_reason(format!("{reason}; it was left out"));
        }
        let memberships = self
            .read_memberships(&groups.items, &counts, scope, &tracker, &mut completeness)
            .await;
        tracker.update(|p| p.phase = ReadPhase::Done);
        Ok(OktaSnapshot {
            users: users.items,
            groups: groups.items,
            memberships,
            completeness,
        })
    }

    async fn read_users(&self, tracker: &Tracker<'_>) -> (Listing<OktaUser>, Option<OktaError>) {
        let mut listing = Listing::default();
        let result = self
            .paginate::<WireUser>(self.users_url(), "list users", |page| {
                let n = page.len();
                for user in page {
                    listing.push(user.into_user(), "user");
                }
                tracker.update(|p| p.users_read += n);
            })
            .await;
        (listing, result.err())
    }

    /// The groups in scope, their `usersCount` when asked for, and the listing error.
    async fn read_groups(
        &self,
        scope: &ReadScope,
        tracker: &Tracker<'_>,
    ) -> (Listing<OktaGroup>, BTreeMap<String, u64>, Option<OktaError>) {
        let mut listing = Listing::default();
        let mut counts = BTreeMap::new();
        let url = self.groups_url(&scope.group_types, scope.skip_empty_groups);
        let result = self
            .paginate::<WireGroup>(url, "list groups", |page| {
                let n = page.len();
                for group in page {
                    if let Some(count) = group.users_count() {
                        counts.insert(group.id.clone(), count);
                    }
                    listing.push(group.into_group(), "group");
                }
                tracker.update(|p| p.groups_read += n);
            })
            .await;
        (listing, counts, result.err())
    }

    /// Reads members of every group concurrently (bounded by `max_concurrency`),
    /// recording a reason for each group that could not be read.
    async fn read_memberships(
        &self,
        groups: &[OktaGroup],
        counts: &BTreeMap<String, u64>,
        scope: &ReadScope,
        tracker: &Tracker<'_>,
        completeness: &mut Completeness,
    ) -> BTreeMap<OktaGroupId, BTreeSet<OktaUserId>> {
        let mut memberships = BTreeMap::new();
        let mut to_read = Vec::new();
        for group in groups {
            // Only a count Okta actually reported as 0 allows skipping.
            if scope.skip_empty_groups && counts.get(group.id.as_str()) == Some(&0) {
                memberships.insert(group.id.clone(), BTreeSet::new());
            } else {
                to_read.push(group);
            }
        }
        let total = to_read.len();
        tracker.update(|p| {
            p.phase = ReadPhase::Members;
            p.groups_with_members_total = Some(total);
        });
        // The futures are built before the stream so no closure lives in this
        // future's state: a `map(closure)` there makes callers' futures fail
        // rustc's `Send` check ("not general enough"), so they could not be spawned.
        let reads: Vec<_> = to_read
            .into_iter()
            .map(|group| async move { (group, self.list_group_members(&group.id).await) })
            .collect();
        let mut results = futures::stream::iter(reads).buffer_unordered(self.max_concurrency);
        while let Some((group, result)) = results.next().await {
            match result {
                Ok(members) => {
                    memberships.insert(group.id.clone(), members.into_iter().collect());
                }
                Err(err) => completeness.add_reason(format!(
                    "the members of group {:?} ({}) could not be read: {err}",
                    group.name, group.id
                )),
            }
            tracker.update(|p| p.groups_with_members_read += 1);
        }
        memberships
    }
}
