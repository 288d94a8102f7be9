//! The executor against an in-memory target that records calls and fails on demand.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pretty_assertions::assert_eq;
use tokio_util::sync::CancellationToken;
use usersync_atlassian::{
    Capabilities, NewUser, Target, TargetError, TargetKind, TargetResult, UserChanges,
};
use usersync_core::{
    Email, GroupName, Links, NewAccount, OktaGroupId, OktaStatus, OktaUserId, Op, PlannedOp, Rule,
    TargetSnapshot, TargetUser, Username,
};
use usersync_store::{LinkChanges, OpOutcome};

use super::{Executor, Journal, Numbered, OpResult};
use crate::engine::progress::Silent;

/// Records every call; fails creating the users named in `fail_creates`.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    fail_creates: Vec<String>,
    /// Cancelled as the first call arrives, as Ctrl-C in the middle of an apply.
    stop_at_first_call: Option<CancellationToken>,
}

impl Recorder {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
        if let Some(stop) = &self.stop_at_first_call {
            stop.cancel();
        }
    }
}

#[async_trait]
impl Target for Recorder {
    fn kind(&self) -> TargetKind {
        TargetKind::Jira
    }
    async fn capabilities(&self) -> TargetResult<Capabilities> {
        Err(TargetError::Config("not used".into()))
    }
    async fn whoami(&self) -> TargetResult<Username> {
        Ok(Username::parse("admin").unwrap())
    }
    async fn read_all(&self) -> TargetResult<TargetSnapshot> {
        Ok(TargetSnapshot::default())
    }
    async fn find_user(&self, _: &Username) -> TargetResult<Option<TargetUser>> {
        Ok(None)
    }
    async fn user_groups(&self, _: &Username) -> TargetResult<Vec<GroupName>> {
        Ok(Vec::new())
    }
    async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        self.log(format!("create_user {}", user.username));
        if self.fail_creates.contains(&user.username.to_string()) {
            return Err(TargetError::Rejected {
                product: "Jira",
                action: "create user".into(),
                message: "refused for the test".into(),
            });
        }
        Ok(TargetUser {
            key: Some(
                usersync_core::TargetUserKey::parse(format!("KEY-{}", user.username)).unwrap(),
            ),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            email: Some(user.email.clone()),
            active: user.active,
            managed_elsewhere: false,
        })
    }
    async fn update_user(&self, u: &Username, _: &UserChanges) -> TargetResult<()> {
        self.log(format!("update_user {u}"));
        Ok(())
    }
    async fn set_active(&self, u: &Username, active: bool) -> TargetResult<()> {
        self.log(format!("set_active {u} {active}"));
        Ok(())
    }
    async fn rename_user(&self, u: &Username, to: &Username) -> TargetResult<()> {
        self.log(format!("rename_user {u} {to}"));
        Ok(())
    }
    async fn delete_user(&self, u: &Username) -> TargetResult<()> {
        self.log(format!("delete_user {u}"));
        Ok(())
    }
    async fn create_group(&self, g: &GroupName) -> TargetResult<()> {
        self.log(format!("create_group {g}"));
        Ok(())
    }
    async fn delete_group(&self, g: &GroupName) -> TargetResult<()> {
        self.log(format!("delete_group {g}"));
        Ok(())
    }
    async fn add_member(&self, g: &GroupName, u: &Username) -> TargetResult<()> {
        self.log(format!("add_member {g} {u}"));
        Ok(())
    }
    async fn remove_member(&self, g: &GroupName, u: &Username) -> TargetResult<()> {
        self.log(format!("remove_member {g} {u}"));
        Ok(())
    }
}

#[derive(Default)]
struct Links_ {
    saved: Mutex<Vec<LinkChanges>>,
}

#[async_trait]
impl Journal for Links_ {
    async fn record(&self, _: &OpResult, links: &LinkChanges) {
        if !links.is_empty() {
            self.saved.lock().unwrap().push(links.clone());
        }
    }
}

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn create(id: &str, name: &str) -> Op {
    Op::CreateUser {
        okta_id: OktaUserId::parse(id).unwrap(),
        username: user(name),
        account: Box::new(NewAccount {
            display_name: name.into(),
            email: Some(Email::parse(format!("{name}@example.com")).unwrap()),
            active: true,
        }),
    }
}

fn add(group: &str, name: &str) -> Op {
    Op::AddMember {
        group: GroupName::parse(group).unwrap(),
        username: user(name),
    }
}

fn planned(ops: Vec<Op>) -> Vec<PlannedOp> {
    let rule = Rule::ImportUsers {
        status: OktaStatus::Active,
    };
    ops.into_iter()
        .map(|op| PlannedOp {
            op,
            rule: rule.clone(),
        })
        .collect()
}

fn numbered(planned: &[PlannedOp]) -> Vec<Numbered<'_>> {
    planned
        .iter()
        .enumerate()
        .map(|(i, planned)| Numbered {
            seq: i as u32 + 1,
            planned,
        })
        .collect()
}

fn executor(target: Arc<Recorder>) -> Executor {
    Executor {
        target,
        concurrency: 4,
        links: Links::default(),
        groups_created_are_owned: true,
        stop: CancellationToken::new(),
    }
}

#[tokio::test]
async fn a_failed_create_skips_only_the_ops_that_depend_on_it() {
    let target = Arc::new(Recorder {
        fail_creates: vec!["bob".into()],
        ..Recorder::default()
    });
    let group = Op::CreateGroup {
        okta_group_id: OktaGroupId::parse("00g1").unwrap(),
        name: GroupName::parse("devs").unwrap(),
    };
    // Deliberately out of dependency order: the executor orders by stage.
    let plan = planned(vec![
        add("devs", "alice"),
        add("devs", "bob"),
        create("00u1", "alice"),
        create("00u2", "bob"),
        group,
    ]);
    let ops = numbered(&plan);
    let journal = Links_::default();

    let results = executor(target.clone())
        .run(ops, &journal, &Silent)
        .await
        .results;

    let outcomes: Vec<(u32, OpOutcome)> = results.iter().map(|r| (r.seq, r.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![
            (1, OpOutcome::Applied),
            (2, OpOutcome::Skipped),
            (3, OpOutcome::Applied),
            (4, OpOutcome::Failed),
            (5, OpOutcome::Applied)
        ]
    );
    assert!(
        results[1].error.as_deref().unwrap().contains("bob"),
        "{:?}",
        results[1].error
    );
    let calls = target.calls.lock().unwrap().clone();
    let position = |c: &str| {
        calls
            .iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("{c} not in {calls:?}"))
    };
    assert!(position("create_group devs") < position("create_user alice"));
    assert!(position("create_user alice") < position("add_member devs alice"));
    assert!(
        !calls.contains(&"add_member devs bob".to_owned()),
        "{calls:?}"
    );
    let saved = journal.saved.lock().unwrap();
    let user_links: Vec<_> = saved.iter().flat_map(|c| c.upsert_users.clone()).collect();
    assert_eq!(user_links.len(), 1, "only the created user is linked");
    assert_eq!(
        user_links[0].target_key.as_ref().unwrap().as_str(),
        "KEY-alice"
    );
    assert_eq!(
        saved.iter().flat_map(|c| c.upsert_groups.clone()).count(),
        1
    );
}

#[tokio::test]
async fn removals_run_before_deactivation_and_a_rename_moves_the_link() {
    let target = Arc::new(Recorder::default());
    let id = OktaUserId::parse("00u9").unwrap();
    let plan = planned(vec![
        Op::DeactivateUser {
            okta_id: id.clone(),
            username: user("carol"),
        },
        Op::RemoveMember {
            group: GroupName::parse("devs").unwrap(),
            username: user("carol"),
        },
        Op::RenameUser {
            okta_id: OktaUserId::parse("00u8").unwrap(),
            from: Box::new(user("dan")),
            to: user("daniel"),
        },
    ]);
    let ops = numbered(&plan);
    let journal = Links_::default();

    let results = executor(target.clone())
        .run(ops, &journal, &Silent)
        .await
        .results;

    assert!(results.iter().all(|r| r.outcome == OpOutcome::Applied));
    let calls = target.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![
            "rename_user dan daniel",
            "remove_member devs carol",
            "set_active carol false"
        ]
    );
    let saved = journal.saved.lock().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].upsert_users[0].username, user("daniel"));
}

/// A journal whose store fails at the first identity link.
#[derive(Default)]
struct LinksFail {
    failed: std::sync::OnceLock<String>,
}

#[async_trait]
impl Journal for LinksFail {
    async fn record(&self, _: &OpResult, links: &LinkChanges) {
        if !links.is_empty() {
            let _ = self
                .failed
                .set("could not record identity links (database or disk is full)".into());
        }
    }
    fn stopped(&self) -> Option<String> {
        self.failed.get().cloned()
    }
}

#[tokio::test]
async fn once_links_cannot_be_recorded_no_further_op_reaches_the_target() {
    let target = Arc::new(Recorder::default());
    let plan = planned(vec![
        create("00u1", "alice"),
        create("00u2", "bob"),
        create("00u3", "carol"),
        add("devs", "alice"),
    ]);
    let executor = Executor {
        concurrency: 1,
        ..executor(target.clone())
    };

    let results = executor
        .run(numbered(&plan), &LinksFail::default(), &Silent)
        .await
        .results;

    let outcomes: Vec<OpOutcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            OpOutcome::Applied,
            OpOutcome::Skipped,
            OpOutcome::Skipped,
            OpOutcome::Skipped
        ]
    );
    assert!(
        results[1]
            .error
            .as_deref()
            .unwrap()
            .contains("disk is full"),
        "{:?}",
        results[1].error
    );
    assert_eq!(
        target.calls.lock().unwrap().clone(),
        vec!["create_user alice"]
    );
}

#[tokio::test]
async fn once_stopped_the_executor_starts_no_op_and_records_those_in_flight() {
    let stop = CancellationToken::new();
    let target = Arc::new(Recorder {
        stop_at_first_call: Some(stop.clone()),
        ..Recorder::default()
    });
    let plan = planned(
        (1..=6)
            .map(|i| create(&format!("00u{i}"), &format!("user{i}")))
            .collect(),
    );
    let journal = Links_::default();
    let executor = Executor {
        concurrency: 2,
        stop,
        ..executor(target.clone())
    };

    let applied = executor.run(numbered(&plan), &journal, &Silent).await;

    let calls = target.calls.lock().unwrap().clone();
    assert!(
        !calls.is_empty() && calls.len() <= 2,
        "only the ops in flight when the stop came reached the target: {calls:?}"
    );
    assert_eq!(applied.results.len(), calls.len(), "each one is recorded");
    assert!(
        applied
            .results
            .iter()
            .all(|r| r.outcome == OpOutcome::Applied)
    );
    assert_eq!(applied.not_started, 6 - calls.len());
    let linked: usize = journal
        .saved
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.upsert_users.len())
        .sum();
    assert_eq!(linked, calls.len(), "each created user is linked");
}

#[test]
fn lanes_are_one_per_user_in_key_order_each_keeping_its_ops_in_plan_order() {
    // Interleaved as a plan's memberships are (by group, then user), with names that
    // differ only in case sharing a lane, as the target compares them.
    let plan = planned(vec![
        add("devs", "bob"),
        add("devs", "Amy"),
        add("ops", "amy"),
        add("ops", "cat"),
        add("qa", "bob"),
        add("qa", "amy"),
    ]);
    let mut stage = numbered(&plan);
    let lanes: Vec<Vec<u32>> = super::lanes(&mut stage)
        .map(|lane| lane.iter().map(|n| n.seq).collect())
        .collect();
    assert_eq!(lanes, vec![vec![2, 3, 6], vec![1, 5], vec![4]]);
}
