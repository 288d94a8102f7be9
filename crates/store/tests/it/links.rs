//! Identity links: batches, renames, deletes.

use pretty_assertions::assert_eq;
use usersync_core::ids::{GroupName, OktaGroupId, OktaUserId, TargetUserKey, Username};
use usersync_core::links::{GroupLink, UserLink};
use usersync_store::{AppId, LinkChanges, StoreError};

use crate::common::{draft, temp_store};
use usersync_testkit::{Backend, on_both_stores};

fn user(okta: &str, key: &str, username: &str) -> UserLink {
    UserLink {
        okta_id: OktaUserId::parse(okta).unwrap(),
        target_key: Some(TargetUserKey::parse(key).unwrap()),
        username: Username::parse(username).unwrap(),
        read_only: false,
    }
}

fn group(okta: &str, name: &str) -> GroupLink {
    GroupLink {
        okta_id: OktaGroupId::parse(okta).unwrap(),
        target_name: GroupName::parse(name).unwrap(),
        created_by_usersync: true,
    }
}

/// The Okta ids of some links, sorted, to compare sets of links.
fn sorted(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.collect();
    ids.sort();
    ids
}

async fn a_renamed_user_updates_its_link_instead_of_adding_a_second(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let first = LinkChanges {
        upsert_users: vec![
            user("00u1", "JIRAUSER10100", "alice"),
            user("00u2", "JIRAUSER10101", "bob"),
        ],
        upsert_groups: vec![group("00g1", "engineering")],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &first).await.unwrap();

    let renamed = LinkChanges {
        upsert_users: vec![user("00u1", "JIRAUSER10100", "alice.smith")],
        upsert_groups: vec![group("00g1", "Engineering Team")],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &renamed).await.unwrap();

    let links = store.load_links(app.id).await.unwrap();
    assert_eq!(links.users.len(), 2);
    let alice = &links.users[&OktaUserId::parse("00u1").unwrap()];
    assert_eq!(alice.username.as_str(), "alice.smith");
    assert_eq!(alice.target_key.as_ref().unwrap().as_str(), "JIRAUSER10100");
    assert_eq!(links.groups.len(), 1);
    assert_eq!(
        links.groups[&OktaGroupId::parse("00g1").unwrap()]
            .target_name
            .as_str(),
        "Engineering Team"
    );
}

async fn a_single_user_sync_reads_only_the_links_its_user_can_touch(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let changes = LinkChanges {
        upsert_users: vec![
            user("00u1", "JIRAUSER1", "alice"),
            user("00u2", "JIRAUSER2", "Bob"),
            user("00u3", "JIRAUSER3", "carol"),
            user("00u4", "JIRAUSER4", "dave"),
            user("00u5", "JIRAUSER5", "émile"),
        ],
        upsert_groups: vec![group("00g1", "engineering"), group("00g2", "sales")],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &changes).await.unwrap();
    let alice = OktaUserId::parse("00u1").unwrap();
    let ids = |links: Vec<UserLink>| sorted(links.iter().map(|l| l.okta_id.as_str().to_owned()));

    let own = store
        .user_links_touching(app.id, &alice, &[], &[])
        .await
        .unwrap();
    assert_eq!(ids(own), ["00u1"]);

    // A username in another case and a target key find the links holding them.
    let names = [Username::parse("BOB").unwrap()];
    let keys = [TargetUserKey::parse("JIRAUSER3").unwrap()];
    let touching = store
        .user_links_touching(app.id, &alice, &names, &keys)
        .await
        .unwrap();
    assert_eq!(ids(touching), ["00u1", "00u2", "00u3"]);

    // SQLite cannot fold a non-ASCII name, so that reads every link.
    let accented = [Username::parse("ÉMILE").unwrap()];
    let all = store
        .user_links_touching(app.id, &alice, &accented, &[])
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
}

async fn a_single_user_sync_reads_the_group_links_of_its_groups_and_of_their_target_names(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let other = store.create_app(draft("Wiki"), "test").await.unwrap();
    let changes = LinkChanges {
        upsert_groups: vec![
            group("00g1", "engineering"),
            // Another Okta group holding the same target name, in another case.
            group("00g2", "Engineering"),
            group("00g3", "sales"),
            group("00g4", "support"),
            group("00g5", "marketing"),
            group("00g6", "équipe"),
        ],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &changes).await.unwrap();
    store.save_links(other.id, &changes).await.unwrap();
    let gid = |id: &str| OktaGroupId::parse(id).unwrap();
    let name = |n: &str| GroupName::parse(n).unwrap();
    let ids = |links: Vec<GroupLink>| sorted(links.iter().map(|l| l.okta_id.as_str().to_owned()));

    // The user's groups by Okta id (one unlinked), the links holding their target
    // names, and a name their group maps to, in another case.
    let touching = store
        .group_links_touching(app.id, &[gid("00g1"), gid("00g9")], &[name("SALES")])
        .await
        .unwrap();
    assert_eq!(ids(touching), ["00g1", "00g2", "00g3"]);

    let none = store.group_links_touching(app.id, &[], &[]).await.unwrap();
    assert_eq!(ids(none), Vec::<String>::new());

    // SQLite cannot fold a non-ASCII name, so that reads every group link.
    let all = store
        .group_links_touching(app.id, &[], &[name("ÉQUIPE")])
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
}

async fn deletes_and_upserts_apply_together_and_stay_within_their_app(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let jira = store.create_app(draft("Jira"), "test").await.unwrap();
    let wiki = store.create_app(draft("Wiki"), "test").await.unwrap();
    let both = LinkChanges {
        upsert_users: vec![user("00u1", "K1", "alice"), user("00u2", "K2", "bob")],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &both).await.unwrap();
    store.save_links(wiki.id, &both).await.unwrap();
    let change = LinkChanges {
        delete_users: vec![OktaUserId::parse("00u2").unwrap()],
        upsert_users: vec![user("00u3", "K3", "carol")],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &change).await.unwrap();
    let jira_users: Vec<_> = store
        .load_links(jira.id)
        .await
        .unwrap()
        .users
        .into_keys()
        .collect();
    let ids: Vec<_> = jira_users.iter().map(OktaUserId::as_str).collect();
    assert_eq!(ids, vec!["00u1", "00u3"]);
    assert_eq!(store.load_links(wiki.id).await.unwrap().users.len(), 2);
}

async fn links_for_an_unknown_app_are_refused(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let change = LinkChanges {
        upsert_users: vec![user("00u1", "K1", "alice")],
        ..LinkChanges::default()
    };
    let err = store.save_links(AppId(4242), &change).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn a_user_link_is_marked_read_only_and_stays_so_when_saved_again(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let jira = store.create_app(draft("Jira"), "test").await.unwrap();
    let alice = LinkChanges {
        upsert_users: vec![user("00u1", "K1", "alice")],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &alice).await.unwrap();
    let id = OktaUserId::parse("00u1").unwrap();
    assert!(!store.load_links(jira.id).await.unwrap().users[&id].read_only);
    let mark = LinkChanges {
        read_only_users: vec![id.clone(), OktaUserId::parse("00u9").unwrap()],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &mark).await.unwrap();
    let links = store.load_links(jira.id).await.unwrap();
    assert!(links.users[&id].read_only);
    assert_eq!(links.users.len(), 1, "an unlinked user is not linked by it");
}

async fn a_group_link_ends_only_while_it_still_names_the_deleted_group(backend: Backend) {
    let (_dir, store) = temp_store(backend).await;
    let jira = store.create_app(draft("Jira"), "test").await.unwrap();
    let id = usersync_core::OktaGroupId::parse("00g1").unwrap();
    let link = |name: &str| usersync_core::GroupLink {
        okta_id: id.clone(),
        target_name: usersync_core::GroupName::parse(name).unwrap(),
        created_by_usersync: true,
    };
    let renamed = LinkChanges {
        upsert_groups: vec![link("engineers")],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &renamed).await.unwrap();
    let end_old = LinkChanges {
        delete_groups: vec![(id.clone(), link("devs").target_name)],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &end_old).await.unwrap();
    let groups = store.load_links(jira.id).await.unwrap().groups;
    assert_eq!(groups[&id].target_name.as_str(), "engineers");
    let end_new = LinkChanges {
        delete_groups: vec![(id.clone(), link("engineers").target_name)],
        ..LinkChanges::default()
    };
    store.save_links(jira.id, &end_new).await.unwrap();
    assert!(store.load_links(jira.id).await.unwrap().groups.is_empty());
}

on_both_stores!(
    a_renamed_user_updates_its_link_instead_of_adding_a_second,
    a_single_user_sync_reads_only_the_links_its_user_can_touch,
    a_single_user_sync_reads_the_group_links_of_its_groups_and_of_their_target_names,
    deletes_and_upserts_apply_together_and_stay_within_their_app,
    links_for_an_unknown_app_are_refused,
    a_user_link_is_marked_read_only_and_stays_so_when_saved_again,
    a_group_link_ends_only_while_it_still_names_the_deleted_group,
    memberships_added_by_group_mapping_are_remembered_per_user_and_forgotten_ignoring_case,
);

async fn memberships_added_by_group_mapping_are_remembered_per_user_and_forgotten_ignoring_case(
    backend: Backend,
) {
    let (_dir, store) = temp_store(backend).await;
    let app = store.create_app(draft("Jira"), "test").await.unwrap();
    let g = |n: &str| GroupName::parse(n).unwrap();
    let u = |n: &str| OktaUserId::parse(n).unwrap();
    let track = LinkChanges {
        track_members: vec![
            (g("jira-software-users"), u("00u1")),
            (g("jira-software-users"), u("00u2")),
            (g("confluence-users"), u("00u1")),
            (g("jira-software-users"), u("00u1")),
        ],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &track).await.unwrap();
    let links = store.load_links(app.id).await.unwrap();
    let ids = |group: &str| -> Vec<String> {
        links.mapped[&g(group)]
            .iter()
            .map(|id| id.as_str().to_owned())
            .collect()
    };
    assert_eq!(ids("jira-software-users"), ["00u1", "00u2"]);
    assert_eq!(ids("confluence-users"), ["00u1"]);
    let mine = store
        .mapped_memberships(app.id, Some(&u("00u2")))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "one user's: {mine:?}");

    let forget = LinkChanges {
        forget_members: vec![(g("JIRA-Software-Users"), u("00u1"))],
        ..LinkChanges::default()
    };
    store.save_links(app.id, &forget).await.unwrap();
    let links = store.load_links(app.id).await.unwrap();
    let left: Vec<&str> = links.mapped[&g("jira-software-users")]
        .iter()
        .map(|id| id.as_str())
        .collect();
    assert_eq!(left, ["00u2"]);
}
