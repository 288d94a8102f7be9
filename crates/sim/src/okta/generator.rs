//! A deterministic generator of realistic orgs: people with plausible names, logins,
//! e-mails, departments and titles; department groups plus team and project groups whose
//! sizes follow a long-tailed (Zipf-like) curve; a few APP_GROUPs; some empty groups; an
//! BUILT_IN `Everyone` (on by default, as in every real org). The same [`OrgSpec`] always gives the same org (ids,
//! timestamps and all). Generated state has no System Log history: it is the org as it
//! stood before the emulator started.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use usersync_core::snapshot::{OktaGroupType, OktaStatus};

use super::ids::{self, Oid};
use super::state::{GroupRec, OrgState, UserRec};

/// What org to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSpec {
    pub users: usize,
    /// Groups besides `Everyone`.
    pub groups: usize,
    /// Average number of groups per user (besides `Everyone`).
    pub memberships_per_user: f64,
    /// Relative weights of user statuses.
    pub status_mix: Vec<(OktaStatus, u32)>,
    /// Share of groups that are APP_GROUPs (imported; read-only through the API).
    pub app_group_share: f64,
    /// Share of groups left without members.
    pub empty_group_share: f64,
    /// Add the BUILT_IN `Everyone` group with every user in it (on by default: every
    /// real org has it, `list-groups.har` shows it).
    pub everyone_group: bool,
    /// The e-mail and login domain.
    pub domain: String,
    pub seed: u64,
}

impl Default for OrgSpec {
    fn default() -> Self {
        Self {
            users: 200,
            groups: 20,
            memberships_per_user: 3.0,
            status_mix: vec![
                (OktaStatus::Active, 880),
                (OktaStatus::Staged, 10),
                (OktaStatus::Provisioned, 20),
                (OktaStatus::Recovery, 5),
                (OktaStatus::PasswordExpired, 10),
                (OktaStatus::LockedOut, 5),
                (OktaStatus::Suspended, 30),
                (OktaStatus::Deprovisioned, 40),
            ],
            app_group_share: 0.03,
            empty_group_share: 0.05,
            everyone_group: true,
            domain: "example.com".into(),
            seed: 1,
        }
    }
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Steven",
    "Ashley",
    "Paul",
    "Emily",
    "Andrew",
    "Kimberly",
    "Joshua",
    "Donna",
    "Kenneth",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "Priya",
    "Wei",
    "Aisha",
    "Mateo",
    "Sofia",
    "Hiroshi",
    "Olga",
    "Kwame",
    "Fatima",
    "Lars",
    "Ingrid",
    "Raj",
    "Mei",
    "Diego",
    "Chloe",
    "Yusuf",
    "Zoe",
    "Noah",
    "Liam",
    "Emma",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Amara",
    "Tariq",
    "Elena",
    "Ivan",
    "Nadia",
    "Omar",
    "Leila",
    "Jonas",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Patel",
    "Kim",
    "Chen",
    "Okafor",
    "Nakamura",
    "Ivanova",
    "Mensah",
    "Haddad",
    "Larsen",
    "Kowalski",
    "Singh",
    "Wang",
    "Silva",
    "Dubois",
    "Muller",
    "Rossi",
    "Novak",
    "Cohen",
    "Sato",
    "Ahmed",
    "Costa",
    "Berg",
    "Fischer",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Reyes",
    "Cruz",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Support",
    "Operations",
    "Product",
    "Design",
    "IT",
    "Security",
];
const TITLES: &[&str] = &[
    "Associate",
    "Analyst",
    "Engineer",
    "Senior Engineer",
    "Manager",
    "Director",
    "Specialist",
    "Lead",
    "Coordinator",
    "Consultant",
];
const TEAMS: &[&str] = &[
    "platform", "payments", "mobile", "web", "data", "infra", "growth", "emea", "apac", "americas",
    "oncall", "release", "qa", "sre",
];
const APPS: &[&str] = &[
    "jira-software-users",
    "confluence-users",
    "jira-administrators",
    "confluence-administrators",
    "bitbucket-users",
];

fn at(start: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    start + Duration::seconds(secs)
}

/// Builds the org described by `spec` into `org` (which should be empty).
pub fn generate(spec: &OrgSpec, org: &mut OrgState) {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let epoch = DateTime::from_timestamp(1_640_995_200, 0).unwrap_or_default(); // 2022-01-01
    let span = 3 * 365 * 24 * 3600_i64;
    let groups = make_groups(spec, org, &mut rng, epoch, span);
    let dept_groups: Vec<Oid> = groups
        .iter()
        .take(DEPARTMENTS.len().min(groups.len()))
        .map(|(id, _)| *id)
        .collect();
    let picker = Picker::new(&groups);
    let total: u32 = spec.status_mix.iter().map(|(_, w)| w).sum::<u32>().max(1);
    let mut seen_logins: HashMap<String, u32> = HashMap::new();
    let everyone = spec.everyone_group.then(|| everyone(org, &mut rng, epoch));
    for _ in 0..spec.users {
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        let base = format!(
            "{}.{}",
            first.to_lowercase(),
            last.to_lowercase().replace('\'', "")
        );
        let n = seen_logins.entry(base.clone()).or_insert(0);
        *n += 1;
        let local = if *n == 1 { base } else { format!("{base}{n}") };
        let dept = rng.random_range(0..DEPARTMENTS.len());
        let user = make_user(
            spec, &mut rng, epoch, span, total, &local, first, last, dept,
        );
        let uid = user.id;
        if org.insert_user(user).is_err() {
            continue;
        }
        if let Some(gid) = everyone {
            org.link(gid, uid);
        }
        // Uniform around the average (mean = memberships_per_user), the department group first.
        let want = spec.memberships_per_user * (0.5 + rng.random::<f64>());
        let k = want.floor() as usize + usize::from(rng.random::<f64>() < want.fract());
        let k = k.min(picker.len() + usize::from(!dept_groups.is_empty()));
        let mut chosen = BTreeSet::new();
        if k > 0 && !dept_groups.is_empty() {
            chosen.insert(dept_groups[dept % dept_groups.len()]);
        }
        let mut attempts = 0;
        while chosen.len() < k && attempts < k * 4 {
            attempts += 1;
            if let Some(g) = picker.pick(&mut rng) {
                chosen.insert(g);
            }
        }
        for gid in chosen {
            org.link(gid, uid);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn make_user(
    spec: &OrgSpec,
    rng: &mut ChaCha8Rng,
    epoch: DateTime<Utc>,
    span: i64,
    total: u32,
    local: &str,
    first: &str,
    last: &str,
    dept: usize,
) -> UserRec {
    let mut roll = rng.random_range(0..total);
    let status = spec
        .status_mix
        .iter()
        .find(|(_, w)| {
            if roll < *w {
                true
            } else {
                roll -= w;
                false
            }
        })
        .map_or(OktaStatus::Active, |(s, _)| *s);
    let created_secs = rng.random_range(0..span);
    let created = at(epoch, created_secs);
    let last_updated = at(created, rng.random_range(0..=span - created_secs));
    let staged = status == OktaStatus::Staged;
    let activated = (!staged).then(|| at(created, rng.random_range(1..600)));
    let mut profile = Map::new();
    let email = format!("{local}@{}", spec.domain);
    profile.insert("login".into(), json!(email));
    profile.insert("email".into(), json!(email));
    profile.insert("firstName".into(), json!(first));
    profile.insert("lastName".into(), json!(last));
    profile.insert("displayName".into(), json!(format!("{first} {last}")));
    profile.insert("department".into(), json!(DEPARTMENTS[dept]));
    profile.insert(
        "title".into(),
        json!(TITLES[rng.random_range(0..TITLES.len())]),
    );
    profile.insert(
        "employeeNumber".into(),
        json!(format!("{:06}", rng.random_range(0..1_000_000))),
    );
    profile.insert("secondEmail".into(), Value::Null);
    profile.insert("mobilePhone".into(), Value::Null);
    UserRec {
        id: Oid::random(ids::USER, rng),
        status,
        created,
        activated,
        status_changed: activated.map(|_| last_updated),
        last_login: (status == OktaStatus::Active && rng.random_bool(0.8)).then_some(last_updated),
        last_updated,
        password_changed: activated,
        has_password: !matches!(status, OktaStatus::Staged | OktaStatus::Provisioned),
        profile,
    }
}

fn new_group(
    org: &mut OrgState,
    rng: &mut ChaCha8Rng,
    kind: OktaGroupType,
    name: String,
    description: String,
    created: DateTime<Utc>,
) -> Oid {
    let mut id = Oid::random(ids::GROUP, rng);
    while org.groups.contains_key(&id) {
        id = Oid::random(ids::GROUP, rng);
    }
    let mut profile = Map::new();
    profile.insert("name".into(), json!(name));
    profile.insert("description".into(), json!(description));
    let source_app = (kind == OktaGroupType::AppGroup).then(|| "0oa1atlassian0000000".to_owned());
    org.groups.insert(
        id,
        GroupRec {
            id,
            kind,
            created,
            last_updated: created,
            last_membership_updated: created,
            profile,
            source_app,
        },
    );
    org.members.insert(id, BTreeSet::new());
    id
}

fn everyone(org: &mut OrgState, rng: &mut ChaCha8Rng, epoch: DateTime<Utc>) -> Oid {
    new_group(
        org,
        rng,
        OktaGroupType::BuiltIn,
        "Everyone".into(),
        "All users in your organization".into(),
        epoch,
    )
}

/// Creates the groups; returns them with their popularity weight (0 for empty groups).
fn make_groups(
    spec: &OrgSpec,
    org: &mut OrgState,
    rng: &mut ChaCha8Rng,
    epoch: DateTime<Utc>,
    span: i64,
) -> Vec<(Oid, f64)> {
    let apps = ((spec.groups as f64 * spec.app_group_share).round() as usize).min(spec.groups);
    let empty = (spec.groups as f64 * spec.empty_group_share).round() as usize;
    (0..spec.groups)
        .map(|i| {
            let created = at(epoch, rng.random_range(0..span / 2));
            let (kind, name, description) = if i < DEPARTMENTS.len() {
                (
                    OktaGroupType::OktaGroup,
                    DEPARTMENTS[i].to_owned(),
                    format!("Everyone in {}", DEPARTMENTS[i]),
                )
            } else if i >= spec.groups - apps {
                let app = APPS[i % APPS.len()];
                (
                    OktaGroupType::AppGroup,
                    format!("{app}-{i}"),
                    format!("Imported from the directory ({app})"),
                )
            } else {
                let dept = DEPARTMENTS[i % DEPARTMENTS.len()]
                    .to_lowercase()
                    .replace(' ', "-");
                let team = TEAMS[rng.random_range(0..TEAMS.len())];
                (
                    OktaGroupType::OktaGroup,
                    format!("{dept}-{team}-{i}"),
                    format!("The {team} team in {dept}"),
                )
            };
            let id = new_group(org, rng, kind, name, description, created);
            // Long tail: a few big groups, many small ones; the last `empty` groups stay empty.
            let weight = if i + empty >= spec.groups && i >= DEPARTMENTS.len() {
                0.0
            } else {
                1.0 / ((i + 1) as f64).powf(0.8)
            };
            (id, weight)
        })
        .collect()
}

/// Weighted random choice of groups.
struct Picker {
    ids: Vec<Oid>,
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(groups: &[(Oid, f64)]) -> Self {
        let mut total = 0.0;
        let (ids, cumulative) = groups
            .iter()
            .filter(|(_, w)| *w > 0.0)
            .map(|(id, w)| {
                total += w;
                (*id, total)
            })
            .unzip();
        Self { ids, cumulative }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> Option<Oid> {
        let total = *self.cumulative.last()?;
        let x = rng.random::<f64>() * total;
        let i = self
            .cumulative
            .partition_point(|c| *c <= x)
            .min(self.ids.len() - 1);
        Some(self.ids[i])
    }
}
