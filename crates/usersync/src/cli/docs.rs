//! `usersync completions SHELL` and `usersync man`: shell completion scripts and
//! roff manual pages, generated from the command line's own definition ([`super::Cli`]),
//! so they always match the binary that prints them.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

use super::{Cli, Exit};

/// Print a completion script for a shell.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Prints a completion script for SHELL on stdout. Install it where your \
shell looks for completions, for example:\n\n  \
bash: usersync completions bash > ~/.local/share/bash-completion/completions/usersync\n  \
zsh:  usersync completions zsh > ~/.zfunc/_usersync   (with fpath+=(~/.zfunc) before compinit)\n  \
fish: usersync completions fish > ~/.config/fish/completions/usersync.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Print the manual page, or write one page per command.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Prints the usersync(1) manual page (roff) on stdout, e.g. \
`usersync man | man -l -`. With --out-dir, writes one page per command and subcommand \
instead (usersync.1, usersync-sync.1, usersync-run-approve.1, ...), e.g. into \
/usr/local/share/man/man1 or ~/.local/share/man/man1."
)]
pub struct ManArgs {
    /// Write every page into this directory (created when missing) instead of printing one.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Runs `completions`.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "usersync", &mut script);
    write_stdout(&script)?;
    Ok(Exit::Ok)
}

/// Runs `man`.
///
/// # Errors
/// The directory cannot be created or a page cannot be written.
pub fn man(args: &ManArgs) -> anyhow::Result<Exit> {
    let Some(dir) = &args.out_dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .context("rendering the manual page")?;
        write_stdout(&page)?;
        return Ok(Exit::Ok);
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the directory {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("writing the manual pages into {}", dir.display()))?;
    eprintln!(
        "manual pages written to {}; `man usersync` finds them when that directory is a man1 \
         directory on MANPATH",
        dir.display()
    );
    Ok(Exit::Ok)
}

/// Writes `bytes` to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(err).context("writing to stdout")
        }
        _ => Ok(()),
    }
}
