//! Tests of the confluence emulator (being written).
