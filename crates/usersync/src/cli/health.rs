//! `usersync health --url URL`: asks a running server's `/readyz` and exits 0 when it
//! answers 2xx, 1 otherwise. The container image has no curl; this is its `HEALTHCHECK`
//! (Docker reads exit 1 as unhealthy and reserves 2, so failures here are 1, not the
//! usual error code).

use std::time::Duration;

use clap::Args as ClapArgs;

use super::Exit;

/// `usersync health`
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The readiness URL of the server to ask.
    #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
    pub url: url::Url,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    timeout_secs: u64,
}

/// Asks the URL; prints the answer's status, or why there was none.
///
/// # Errors
/// Never: an unhealthy server is [`Exit::Unhealthy`].
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    match ask(&args).await {
        Ok(()) => {
            println!("healthy: {} answered 2xx", args.url);
            Ok(Exit::Ok)
        }
        Err(why) => {
            eprintln!("usersync: unhealthy: {why}");
            Ok(Exit::Unhealthy)
        }
    }
}

async fn ask(args: &Args) -> Result<(), String> {
    if !matches!(args.url.scheme(), "http" | "https") {
        return Err(format!(
            "--url must be http or https, not {}",
            args.url.scheme()
        ));
    }
    // No proxy: a health check asks this machine's server, never a proxy's idea of it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(args.timeout_secs.max(1)))
        .build()
        .map_err(|e| format!("could not build an HTTP client: {e}"))?;
    let answer = client
        .get(args.url.clone())
        .send()
        .await
        .map_err(|e| format!("{} did not answer: {e}", args.url))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{} answered {status}", args.url))
    }
}
