//! `boundary-faultproxy --upstream http://127.0.0.1:8000 --faults 0.2`: a fault-injecting
//! proxy in front of a real or instant server.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use boundary_testserver::{FaultPlan, FaultProxy};
use clap::Parser;

/// A loopback proxy that injects 500s, 429s, stalls, dropped connections, truncated JSON
/// and missing choices into generation requests.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the chosen URL is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The server to forward to, without /v1 (e.g. http://127.0.0.1:8000).
    #[arg(long)]
    upstream: String,
    /// Share of generation requests that get a fault, spread evenly over the kinds.
    #[arg(long, default_value_t = 0.2)]
    faults: f64,
    /// How long a stall lasts, in seconds.
    #[arg(long, default_value_t = 30.0)]
    stall_secs: f64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.faults),
        "--faults must be in [0, 1]"
    );
    let plan = FaultPlan::uniform(
        args.faults,
        Duration::from_secs_f64(args.stall_secs),
        args.seed,
    );
    let proxy = FaultProxy::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        &args.upstream,
        plan,
    )
    .await
    .context("cannot bind the port")?;
    println!("{}", proxy.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
