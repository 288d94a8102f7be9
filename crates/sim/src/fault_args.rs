//! The fault settings of [`crate::faults`] as command-line flags, one set every
//! `usersync-sim` emulator takes, so a person trying a client against the emulator
//! from a shell can make it slow, flaky or broken the way the test suite does.

use crate::faults::{FaultConfig, PathFault};

/// `--latency-ms`, `--error-rate`, `--burst-503`, `--drop-rate`, `--truncate-rate`,
/// `--path-fault`, `--fault-seed`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FaultArgs {
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share (0.0 to 1.0) of requests answered with --error-status.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub error_rate: f64,
    /// The status --error-rate answers with.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(400..=599))]
    pub error_status: u16,
    /// Answer the first N requests with 503.
    #[arg(long, default_value_t = 0)]
    pub burst_503: u32,
    /// Share of responses whose connection is dropped before the body is sent.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub drop_rate: f64,
    /// Share of responses whose body is cut short.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub truncate_rate: f64,
    /// Fail requests whose path (with query) contains TEXT: `TEXT=STATUS` fails every
    /// one, `TEXT=STATUSxN` the next N. Repeatable.
    #[arg(long = "path-fault", value_name = "TEXT=STATUS[xN]", value_parser = path_fault)]
    pub path_faults: Vec<PathFault>,
    /// Seed of the random choices (the same seed, the same faults).
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
}

impl FaultArgs {
    /// The emulator's fault settings.
    #[must_use]
    pub fn config(&self) -> FaultConfig {
        FaultConfig {
            latency_ms: self.latency_ms,
            error_rate: self.error_rate,
            error_status: self.error_status,
            burst_503: self.burst_503,
            drop_rate: self.drop_rate,
            truncate_rate: self.truncate_rate,
            path_faults: self.path_faults.clone(),
            seed: self.fault_seed,
        }
    }
}

fn share(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|x| (0.0..=1.0).contains(x))
        .ok_or_else(|| format!("{text:?} is not a share between 0.0 and 1.0 (e.g. 0.05)"))
}

fn path_fault(text: &str) -> Result<PathFault, String> {
    let usage = || format!("{text:?} is not TEXT=STATUS or TEXT=STATUSxN (e.g. /users=503x2)");
    let (path, rest) = text.rsplit_once('=').ok_or_else(usage)?;
    let (status, remaining) = match rest.split_once('x') {
        Some((s, n)) => (s, Some(n.parse::<u32>().map_err(|_| usage())?)),
        None => (rest, None),
    };
    let status = status
        .parse::<u16>()
        .ok()
        .filter(|s| (400..=599).contains(s))
        .ok_or_else(usage)?;
    if path.is_empty() {
        return Err(usage());
    }
    Ok(PathFault {
        path_contains: path.to_owned(),
        status,
        remaining,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        faults: FaultArgs,
    }

    #[test]
    fn every_fault_flag_reaches_the_fault_settings() {
        let cli = Cli::try_parse_from([
            "sim",
            "--latency-ms",
            "50",
            "--error-rate",
            "0.1",
            "--error-status",
            "502",
            "--burst-503",
            "3",
            "--drop-rate",
            "0.01",
            "--truncate-rate",
            "0.02",
            "--path-fault",
            "/api/v1/groups=503x2",
            "--path-fault",
            "/users?=429",
            "--fault-seed",
            "7",
        ])
        .unwrap();
        let config = cli.faults.config();
        assert_eq!(config.latency_ms, 50);
        assert_eq!((config.error_rate, config.error_status), (0.1, 502));
        assert_eq!(config.burst_503, 3);
        assert_eq!((config.drop_rate, config.truncate_rate), (0.01, 0.02));
        assert_eq!(config.seed, 7);
        assert_eq!(
            config.path_faults,
            vec![
                PathFault {
                    path_contains: "/api/v1/groups".into(),
                    status: 503,
                    remaining: Some(2),
                },
                PathFault {
                    path_contains: "/users?".into(),
                    status: 429,
                    remaining: None,
                },
            ]
        );
    }

    #[test]
    fn no_fault_flag_means_no_fault() {
        let cli = Cli::try_parse_from(["sim"]).unwrap();
        assert_eq!(cli.faults.config(), FaultConfig::default());
    }

    #[test]
    fn a_bad_fault_flag_is_refused_with_its_form() {
        for args in [
            ["sim", "--error-rate", "1.5"],
            ["sim", "--path-fault", "/users"],
            ["sim", "--path-fault", "/users=200"],
            ["sim", "--error-status", "200"],
        ] {
            let err = Cli::try_parse_from(args).err().unwrap().to_string();
            assert!(err.contains(args[1]), "{err}");
        }
    }
}
