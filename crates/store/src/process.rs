//! Who owns a running run: an identifier of the current process that another process
//! can check for liveness.
//!
//! Several usersync processes may share one database (the service and a CLI command).
//! A run is only marked `interrupted` when the process that started it is gone, so a
//! CLI command opening the store does not disturb the service's run in progress.
//! The identifier is `pid:start-time` from `/proc` on Linux, which survives pid reuse;
//! elsewhere it is the pid alone and liveness is unknown, so unfinished runs count as dead.

/// The owner identifier of the current process.
pub(crate) fn current_owner() -> String {
    let pid = std::process::id();
    match start_time(pid) {
        Some(start) => format!("pid:{pid}:{start}"),
        None => format!("pid:{pid}"),
    }
}

/// True when the process named by `owner` is still running.
pub(crate) fn owner_is_alive(owner: &str) -> bool {
    let mut parts = owner.strip_prefix("pid:").unwrap_or_default().split(':');
    let (Some(pid), Some(start)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    start_time(pid).is_some_and(|now| now == start)
}

/// The kernel's start time of a live (not zombie) process, from `/proc/<pid>/stat`.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is the state (field 3 of the file); the start time is field 22.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19).map(|s| (*s).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_is_alive_and_a_made_up_one_is_not() {
        let me = current_owner();
        if cfg!(target_os = "linux") {
            assert!(owner_is_alive(&me), "{me}");
        }
        assert!(!owner_is_alive("pid:4294967295:1"));
        assert!(!owner_is_alive("garbage"));
    }
}
