//! Who holds a run or a lease: an identifier of the current process that another
//! process can check, on the same machine by the kernel, elsewhere by the lease.
//!
//! Several usersync processes may share one database (the service and a CLI command,
//! or several `usersync serve` replicas). A run is only marked `interrupted` when the
//! process that holds it is gone, so a CLI command opening the store does not disturb
//! the service's run in progress.
//!
//! The identifier is `pid:PID:START host:HOST place:PLACE nonce:NONCE`. `START` is the
//! kernel's start time from `/proc` (it survives pid reuse); `PLACE` names the pid
//! namespace of one boot of one machine (`boot_id` and the namespace's inode), the only
//! place where a pid means anything: two containers on one host, or two hosts with the
//! same name, have different places. `HOST` is for people reading it; the random
//! `NONCE` makes two processes' identifiers differ whatever else matches. Within the
//! same place, liveness is known; elsewhere it is [`Liveness::Unknown`] and the
//! holder's lease decides. Identifiers written by older versions (`pid:PID:START`)
//! are taken as from this place, as they were then.

use std::sync::OnceLock;

/// Whether the process named by an identifier is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    Alive,
    Dead,
    /// Another machine (or pid namespace), or no `/proc`: only its lease can tell.
    Unknown,
}

/// The identifier of the current process (the same for its whole life).
pub(crate) fn current_owner() -> String {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER
        .get_or_init(|| {
            let pid = std::process::id();
            let proc_part = match start_time(pid) {
                Some(start) => format!("pid:{pid}:{start}"),
                None => format!("pid:{pid}"),
            };
            let nonce: u32 = rand::random();
            format!(
                "{proc_part} host:{} place:{} nonce:{nonce:08x}",
                hostname(),
                current_place().unwrap_or("unknown")
            )
        })
        .clone()
}

/// Whether the process named by `owner` is running, as far as this process can tell.
pub(crate) fn liveness(owner: &str) -> Liveness {
    let mut proc_part = None;
    let mut place = None;
    for token in owner.split_whitespace() {
        if let Some(rest) = token.strip_prefix("pid:") {
            proc_part = Some(rest);
        } else if let Some(rest) = token.strip_prefix("place:") {
            place = Some(rest);
        }
    }
    let here = current_place();
    // An identifier of an older version has no place: it was written on this machine.
    if place.is_some() && (here.is_none() || place != here) {
        return Liveness::Unknown;
    }
    let Some((pid, start)) = proc_part.and_then(|p| p.split_once(':')) else {
        return Liveness::Unknown;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return Liveness::Unknown;
    };
    if std::fs::metadata("/proc/self/stat").is_err() {
        return Liveness::Unknown;
    }
    if start_time(pid).is_some_and(|now| now == start) {
        Liveness::Alive
    } else {
        Liveness::Dead
    }
}

/// True when the process named by `owner` is known to be running.
#[cfg(test)]
pub(crate) fn owner_is_alive(owner: &str) -> bool {
    liveness(owner) == Liveness::Alive
}

/// The boot and pid namespace this process lives in, when `/proc` says.
fn current_place() -> Option<&'static str> {
    static PLACE: OnceLock<Option<String>> = OnceLock::new();
    PLACE
        .get_or_init(|| {
            let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
            let ns: String = ns
                .to_string_lossy()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            Some(format!("{}-{ns}", boot.trim()))
        })
        .as_deref()
}

/// The machine's name, for people reading an identifier (never trusted for liveness).
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(64)
        .collect();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
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
            assert!(!owner_is_alive("pid:4294967295:1"));
            assert_eq!(liveness("pid:4294967295:1"), Liveness::Dead);
        }
        assert!(!owner_is_alive("garbage"));
        assert_eq!(current_owner(), me, "one identifier for the process's life");
    }

    #[test]
    fn a_process_of_another_machine_or_namespace_is_unknown_not_dead() {
        let elsewhere = "pid:1:1 host:other place:not-this-one nonce:00000001";
        assert_eq!(liveness(elsewhere), Liveness::Unknown);
        if cfg!(target_os = "linux") {
            let here = current_place().unwrap();
            let dead_here = format!("pid:4294967295:1 host:x place:{here} nonce:1");
            assert_eq!(liveness(&dead_here), Liveness::Dead);
        }
    }
}
