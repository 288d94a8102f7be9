//! Tests of the okta emulator (being written).
