//! The `usersync` command: a thin shell around [`usersync::cli::main`], so every
//! command is also reachable (and testable) as a library function.

fn main() -> std::process::ExitCode {
    usersync::cli::main()
}
