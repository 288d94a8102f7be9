//! Tests of the jira emulator (being written).
