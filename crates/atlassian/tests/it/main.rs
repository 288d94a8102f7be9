//! Contract tests of the Atlassian clients against their emulators.

mod confluence;
mod crowd;
mod jira;
