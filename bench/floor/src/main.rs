//! pew-floor: the least a program can do to poll PostEverywhere's results API with the HTTP
//! stack posteverywhere-wait uses (reqwest + rustls/ring + tokio current-thread): GET each
//! URL with the bearer key, read the whole body, sleep, repeat. No decoding, no pacing, no
//! report. bench/run.py compares the tool with it, so every figure says how far above the
//! floor the tool is.
//!
//! usage: pew-floor [--polls N | --until-absent TEXT] [--interval-ms MS] URL...
//!   --polls N            GET every URL N times (default 1)
//!   --until-absent TEXT  GET every URL until its body no longer contains TEXT
//!   --interval-ms MS     sleep between two GETs of one URL (default 0)
//! The key comes from POSTEVERYWHERE_API_KEY. URLs are polled one after another.

use std::process::ExitCode;
use std::time::Duration;

enum Stop {
    After(u64),
    WhenAbsent(Vec<u8>),
}

fn parse() -> Result<(Stop, Duration, Vec<String>), String> {
    let mut stop = Stop::After(1);
    let mut interval = Duration::ZERO;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--polls" => stop = Stop::After(value()?.parse().map_err(|e| format!("--polls: {e}"))?),
            "--until-absent" => stop = Stop::WhenAbsent(value()?.into_bytes()),
            "--interval-ms" => {
                interval = Duration::from_millis(value()?.parse().map_err(|e| format!("--interval-ms: {e}"))?)
            }
            _ => urls.push(a),
        }
    }
    if urls.is_empty() {
        return Err("usage: pew-floor [--polls N | --until-absent TEXT] [--interval-ms MS] URL...".into());
    }
    Ok((stop, interval, urls))
}

async fn poll(stop: &Stop, interval: Duration, urls: &[String]) -> Result<(u64, usize), reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Plain http to loopback, like the tool's bench runs: no trust store to load, and no
    // proxy variables read (the tool connects to a loopback API directly, without reading
    // them; a floor that read them paid 41 k instructions on musl in a runner's step, each
    // variable a `getenv` scan of the whole environment, and flattered the tool by that).
    let client = reqwest::Client::builder().no_proxy().tls_certs_only(Vec::new()).build()?;
    let key = std::env::var("POSTEVERYWHERE_API_KEY").unwrap_or_default();
    let (mut requests, mut bytes) = (0u64, 0usize);
    for url in urls {
        for n in 0.. {
            if n > 0 {
                tokio::time::sleep(interval).await;
            }
            let body = client.get(url).bearer_auth(&key).send().await?.bytes().await?;
            requests += 1;
            bytes += body.len();
            let done = match stop {
                Stop::After(polls) => n + 1 >= *polls,
                Stop::WhenAbsent(text) => !body.windows(text.len()).any(|w| w == text.as_slice()),
            };
            if done {
                break;
            }
        }
    }
    Ok((requests, bytes))
}

fn main() -> ExitCode {
    let (stop, interval, urls) = match parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pew-floor: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(poll(&stop, interval, &urls)) {
        Ok((requests, bytes)) => {
            println!("pew-floor: {requests} requests, {bytes} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pew-floor: {e}");
            ExitCode::FAILURE
        }
    }
}
