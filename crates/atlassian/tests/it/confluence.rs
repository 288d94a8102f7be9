//! Contract tests of the confluence client (being written).
