//! `switchboard simulate`: play scenario files into a host as Aircall webhooks.

use clap::Args;

use crate::simulate::{self, PlayOptions, Speed, World};

/// `simulate SCENARIO... --to URL`
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Bundled scenario names or paths of scenario files (played one after the other).
    #[arg(required_unless_present = "list")]
    pub scenarios: Vec<String>,
    /// The host: `http://HOST:PORT` or the full webhook URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub to: String,
    /// Webhook token put in every body (the account's `webhook_token`).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_TOKEN", default_value = "local-demo-token")]
    pub token: String,
    /// Times real time (`30` plays `call.ended`'s 30 s wait in 1 s), or `max`.
    #[arg(long, default_value = "1")]
    pub speed: Speed,
    /// The Aircall emulator's URL (`http://HOST:PORT`): each call's REST view is
    /// upserted there before each webhook about it, so `GET /v1/calls/:id` answers
    /// as Aircall would (IVR options selected included).
    #[arg(long, value_name = "URL")]
    pub aircall: Option<String>,
    /// Recording, voicemail and MMS links on this server (`/_sandbox/media/...`,
    /// which every sandbox emulator serves) instead of placeholder hosts.
    #[arg(long, value_name = "URL")]
    pub media_base: Option<String>,
    /// A world file to use instead of the bundled one.
    #[arg(long)]
    pub world: Option<std::path::PathBuf>,
    /// List the bundled scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// No line per webhook.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command; exit code 1 when a webhook was not accepted.
pub async fn run(args: SimulateArgs) -> anyhow::Result<i32> {
    let world = match &args.world {
        Some(p) => World::parse(&std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)?,
        None => World::bundled()?,
    };
    if args.list {
        for name in simulate::bundled_names() {
            let s = simulate::bundled(name, &world)?;
            println!("{name:<28} {}", s.description);
        }
        return Ok(0);
    }
    // Check every file before posting anything.
    let scenarios = args.scenarios.iter().map(|n| Ok((n, simulate::load(n, &world)?))).collect::<anyhow::Result<Vec<_>>>()?;
    let mut options = PlayOptions::new(&args.to, &args.token).speed(args.speed);
    options.verbose = !args.quiet;
    if let Some(url) = &args.aircall {
        options = options.aircall(url);
    }
    if let Some(url) = &args.media_base {
        options = options.media_base(url);
    }
    let mut failed = 0;
    for (name, scenario) in scenarios {
        let copies = if scenario.copies > 1 { format!(" ×{}", scenario.copies) } else { String::new() };
        eprintln!("▶ {name}{copies}: {} ({:.0} s of scenario time)", scenario.description, scenario.length_secs());
        let report = simulate::play(&scenario, &world, &options).await?;
        eprintln!("  {} webhooks accepted, {} refused", report.posted, report.rejected.len());
        for r in &report.rejected {
            eprintln!("  refused {}: {} {}", r.event, r.status, r.body);
        }
        for r in &report.aircall_failed {
            eprintln!("  Aircall emulator did not take the call before {}: {} {}", r.event, r.status, r.body);
        }
        failed += report.rejected.len() + report.aircall_failed.len();
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
