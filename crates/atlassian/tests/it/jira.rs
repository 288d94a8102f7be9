//! Contract tests of the jira client (being written).
