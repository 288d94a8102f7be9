//! The full read of an org: users, groups and every group's members, as one snapshot.
//!
//! Request count of a full read, retries excluded (the integration tests assert it):
//!
//! ```text
//! pages(users, 200) + pages(groups, 200) + sum over read groups of pages(members_g, P)
//! ```
//!
//! where `P` is `page_sizes.group_members` (1,000 by default, Okta's own default and
//! the largest page the endpoint serves) and `pages(n, size)` is the number of pages
//! Okta returns: `ceil(n / size)`, but at least 1, because even an empty listing
//! takes one request. Empty groups are read too: a member count is Okta's word at
//! listing time, and the engine must not miss a member added since.
//!
//! Order: the user and group listings start together, and each group's members
//! are read as soon as the group's listing page arrives, alongside the rest of
//! both listings, so the member bucket (usually the binding one) is busy from the
//! first group page on. The group listing asks for `expand=stats`, and a free lane
//! takes the largest group listed so far (`longest_first`), so the longest member
//! chains start first and none runs on alone into a later rate-limit window. Every
//! listing still follows Okta's `Link` headers one page after another. While a
//! listing is going, one slot of the client's concurrency is kept for it, so these
//! chains, whose every page waits for the one before, never queue behind member reads.
//!
//! Completeness never lies: the snapshot is `Complete` only when every page of
//! every listing was read and every object was understood. When the user listing
//! fails before a single user was read, `read_org` returns the error instead (a
//! wrong token, for example): there is nothing usable. Any later failure (more
//! user pages, the group listing, one group's members) leaves a snapshot marked
//! `Incomplete` with one reason per failure, naming the listing or group and the error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use tokio::sync::Semaphore;
use usersync_core::{
    Completeness, Memberships, OktaGroup, OktaGroupType, OktaSnapshot, OktaUser, OktaUserId,
};

use crate::longest_first::LongestFirst;
use crate::users::Listing;
use crate::wire::{WireGroup, WireUser};
use crate::{OktaClient, OktaError};

/// What a full read covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadScope {
    /// Group types to read (pushed into the query as `filter=type eq ...`); empty
    /// means every type.
    pub group_types: Vec<OktaGroupType>,
    /// The profile attributes to keep of each user (the login is always kept, as
    /// `OktaUser::login`); `None` keeps them all. usersync passes the ones its
    /// mapping reads, so a 100,000-user snapshot holds nothing it never uses.
    pub profile_attributes: Option<Vec<String>>,
}

/// Where a full read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPhase {
    /// The group listing is still going (member reads of listed groups may have begun).
    UsersAndGroups,
    /// Every group is listed, so the number of member reads is known; the user
    /// listing may still be going.
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
        let parts = self.read_parts(scope, &tracker).await?;
        tracker.update(|p| p.phase = ReadPhase::Done);
        Ok(parts.into_snapshot())
    }

    /// Runs the three reads at once; fails only as [`read_org`](Self::read_org) does.
    async fn read_parts(
        &self,
        scope: &ReadScope,
        tracker: &Tracker<'_>,
    ) -> Result<Parts, OktaError> {
        let (to_read, queue) = unbounded();
        let waiting = LongestFirst::default();
        let lanes = MemberLanes::new(self.concurrency);
        let users = async {
            let read = self
                .read_users(scope.profile_attributes.as_deref(), tracker)
                .await;
            lanes.listing_done();
            match read {
                // Nothing usable: stop the other reads too (dropping them cancels them).
                (users, Some(err)) if users.items.is_empty() => Err(err),
                other => Ok(other),
            }
        };
        let rest = async {
            let groups = async {
                let read = self.read_groups(scope, tracker, &waiting, to_read).await;
                lanes.listing_done();
                read
            };
            Ok(tokio::join!(
                groups,
                self.read_members(queue, &waiting, &lanes, tracker)
            ))
        };
        let ((users, user_error), (groups, members)) =
            futures::future::try_join(users, rest).await?;
        Ok(Parts {
            users,
            user_error,
            groups,
            members,
        })
    }

    async fn read_users(
        &self,
        keep: Option<&[String]>,
        tracker: &Tracker<'_>,
    ) -> (Listing<OktaUser>, Option<OktaError>) {
        let mut listing = Listing::default();
        let result = self
            .paginate::<WireUser>(self.users_url(), "list users", |page| {
                let n = page.len();
                for user in page {
                    listing.push(user.into_user_keeping(keep), "user");
                }
                tracker.update(|p| p.users_read += n);
            })
            .await;
        (listing, result.err())
    }

    /// Lists the groups in scope, putting each group in `waiting` (with its member
    /// count) and a ticket on `to_read` as its page arrives.
    async fn read_groups(
        &self,
        scope: &ReadScope,
        tracker: &Tracker<'_>,
        waiting: &LongestFirst,
        to_read: UnboundedSender<()>,
    ) -> GroupsRead {
        let mut listing = Listing::default();
        let mut queued = 0;
        let url = self.groups_url(&scope.group_types, true);
        let result = self
            .paginate::<WireGroup>(url, "list groups", |page| {
                let n = page.len();
                for wire in page {
                    let size = wire.users_count();
                    let group = wire.into_group();
                    if let Ok(g) = &group {
                        queued += 1;
                        waiting.push(g.id.clone(), g.name.to_string(), size);
                        // The reader outlives this listing, so the send cannot fail.
                        let _ = to_read.unbounded_send(());
                    }
                    listing.push(group, "group");
                }
                tracker.update(|p| p.groups_read += n);
            })
            .await;
        // Closing the queue tells the member reader no more groups are coming.
        drop(to_read);
        tracker.update(|p| {
            p.phase = ReadPhase::Members;
            p.groups_with_members_total = Some(queued);
        });
        GroupsRead {
            listing,
            error: result.err(),
        }
    }

    /// Reads the members of one waiting group per ticket on `queue`, the largest
    /// waiting when a lane frees up, until the queue closes; returns the memberships
    /// and one reason per group that could not be read.
    async fn read_members(
        &self,
        queue: UnboundedReceiver<()>,
        waiting: &LongestFirst,
        lanes: &MemberLanes,
        tracker: &Tracker<'_>,
    ) -> (Memberships, Vec<String>) {
        let mut memberships = Memberships::new();
        let mut failures = Vec::new();
        let mut results = queue
            .map(|()| async move {
                // The semaphore is never closed, so acquiring cannot fail.
                let _lane = lanes.slots.acquire().await;
                // One group per ticket, and every group's ticket follows its push.
                let (id, name) = waiting.pop()?;
                let result = self.list_group_members(&id).await;
                Some((id, name, result))
            })
            .buffer_unordered(self.concurrency)
            .filter_map(std::future::ready);
        while let Some((id, name, result)) = results.next().await {
            match result {
                Ok(members) => {
                    memberships.insert(id, members);
                }
                Err(err) => failures.push(format!(
                    "the members of group {name:?} ({id}) could not be read: {err}"
                )),
            }
            tracker.update(|p| p.groups_with_members_read += 1);
        }
        (memberships, failures)
    }
}

/// How many member reads may be in flight: the client's concurrency less one slot
/// for each listing still going, so a listing's next page never queues behind
/// member reads; a finished listing hands its slot over.
struct MemberLanes {
    slots: Semaphore,
    reserved: AtomicUsize,
}

impl MemberLanes {
    fn new(concurrency: usize) -> Self {
        // Two listings, but member reads always keep at least one slot.
        let reserved = concurrency.saturating_sub(1).min(2);
        Self {
            slots: Semaphore::new(concurrency.max(1) - reserved),
            reserved: AtomicUsize::new(reserved),
        }
    }

    fn listing_done(&self) {
        let released = self
            .reserved
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
            .is_ok();
        if released {
            self.slots.add_permits(1);
        }
    }
}

/// What the three reads of a full read produced.
struct Parts {
    users: Listing<OktaUser>,
    user_error: Option<OktaError>,
    groups: GroupsRead,
    members: (Memberships, Vec<String>),
}

impl Parts {
    /// The snapshot, complete only when nothing failed and everything was understood.
    fn into_snapshot(self) -> OktaSnapshot {
        let Parts {
            users,
            user_error,
            groups,
            members: (memberships, failures),
        } = self;
        let mut completeness = Completeness::Complete;
        if let Some(err) = user_error {
            completeness.add_reason(format!(
                "the user listing stopped after {} users: {err}",
                users.items.len()
            ));
        }
        if let Some(err) = &groups.error {
            completeness.add_reason(format!(
                "the group listing stopped after {} groups: {err}",
                groups.listing.items.len()
            ));
        }
        for reason in users.unusable.iter().chain(&groups.listing.unusable) {
            completeness.add_reason(format!("{reason}; it was left out"));
        }
        for reason in failures {
            completeness.add_reason(reason);
        }
        OktaSnapshot {
            users: latest_of_each(users.items),
            groups: groups.listing.items,
            memberships,
            completeness,
        }
    }
}

/// Each user once. Okta's user listing is ordered by status and is not a snapshot:
/// a user whose status changes while it is paged moves within it and can be listed
/// twice; the later page is the newer state. (A user it moves behind the cursor is
/// not listed at all and the listing still ends normally: what the engine's
/// confirmation by id, not this read, answers.)
fn latest_of_each(users: Vec<OktaUser>) -> Vec<OktaUser> {
    let mut at: HashMap<OktaUserId, usize> = HashMap::with_capacity(users.len());
    let mut out: Vec<OktaUser> = Vec::with_capacity(users.len());
    for user in users {
        match at.get(&user.id) {
            Some(&i) => out[i] = user,
            None => {
                at.insert(user.id.clone(), out.len());
                out.push(user);
            }
        }
    }
    out
}

/// What the group listing produced.
struct GroupsRead {
    listing: Listing<OktaGroup>,
    error: Option<OktaError>,
}
