//! `sandbox`: serves every emulator on loopback ports until Ctrl-C.

use clap::Parser;
use switchboard_sandbox::{Ports, Sandbox, SandboxOptions};

/// Local emulators of the Aircall, Intercom, Help Scout, Gorgias and HubSpot APIs.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version)]
struct Args {
    /// Port of the Aircall emulator (0 = any free port).
    #[arg(long, env = "SANDBOX_AIRCALL_PORT", default_value_t = 0)]
    aircall_port: u16,
    /// Port of the Intercom emulator.
    #[arg(long, env = "SANDBOX_INTERCOM_PORT", default_value_t = 0)]
    intercom_port: u16,
    /// Port of the Help Scout emulator.
    #[arg(long, env = "SANDBOX_HELPSCOUT_PORT", default_value_t = 0)]
    helpscout_port: u16,
    /// Port of the Gorgias emulator.
    #[arg(long, env = "SANDBOX_GORGIAS_PORT", default_value_t = 0)]
    gorgias_port: u16,
    /// Port of the HubSpot emulator.
    #[arg(long, env = "SANDBOX_HUBSPOT_PORT", default_value_t = 0)]
    hubspot_port: u16,
    /// Port of the generic notes API (the reference plugin's CRM).
    #[arg(long, env = "SANDBOX_NOTES_PORT", default_value_t = 0)]
    notes_port: u16,
    /// Gorgias rate limit: requests per window.
    #[arg(long, default_value_t = 80)]
    gorgias_limit: u32,
    /// Gorgias rate limit: window length in seconds.
    #[arg(long, default_value_t = 40)]
    gorgias_window_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let mut options = SandboxOptions {
        ports: Ports {
            aircall: args.aircall_port,
            intercom: args.intercom_port,
            helpscout: args.helpscout_port,
            gorgias: args.gorgias_port,
            hubspot: args.hubspot_port,
            notes: args.notes_port,
        },
        ..SandboxOptions::default()
    };
    options.gorgias_rate.limit = args.gorgias_limit;
    options.gorgias_rate.window_secs = args.gorgias_window_secs;
    let sandbox = Sandbox::start(options).await?;
    println!("{}", sandbox.describe());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
