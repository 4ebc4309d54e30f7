//! `demo`: what a newcomer runs first. It starts the sandbox emulators and the
//! host with every bundled plugin (on the embedded SQLite store), plays a set
//! of scenarios through the simulator, prints what an agent would now see in
//! each CRM, and keeps running so you can look around (`--quick` exits).

mod config;
mod summary;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use switchboard::app::App;
use switchboard::config::Config;
use switchboard::simulate::{self, PlayOptions, Speed, World};
use switchboard_sandbox::{Ports, Sandbox, SandboxOptions};

/// The scenarios the demo plays, in order.
const DEMO_SCENARIOS: &[&str] = &[
    "inbound-answered",
    "inbound-missed-voicemail",
    "outbound-answered",
    "outbound-unanswered",
    "transfer",
    "assignment",
    "tags-and-comments",
    "anonymous",
    "ivr-switch",
    "sms",
    "mms",
    "whatsapp",
    "voice-agent-escalation",
];

/// The sandbox, the host and every bundled plugin, with scenarios played through them.
#[derive(Debug, Parser)]
#[command(name = "demo", version)]
struct Args {
    /// Play, print the summary and exit (emulators and host on free ports).
    #[arg(long)]
    quick: bool,
    /// Where the host listens (ignored with --quick).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Where the console listens (ignored with --quick).
    #[arg(long, default_value = "127.0.0.1:8081")]
    console_listen: String,
    /// Scenarios to play, comma-separated (default: the demo set; see `switchboard simulate --list`).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Times real time, or `max`.
    #[arg(long, default_value = "max")]
    speed: Speed,
    /// The built plugins (default: dist/plugins, from `cargo xtask plugins`).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// The host's data folder, emptied at start (default: target/demo).
    #[arg(long)]
    data: Option<PathBuf>,
}

/// HubSpot calls the "Send SMS" action for Chloé's contact, signed as HubSpot signs it.
async fn workflow_sms(sandbox: &Sandbox, host_url: &str) {
    let execution = switchboard_sandbox::hubspot::Execution {
        object_type: "CONTACT".into(),
        object_id: 901,
        object_properties: serde_json::json!({ "firstname": "Chloé", "phone": "+33612345678" }),
        input_fields: serde_json::json!({ "fromNumber": "2001", "senderUser": "1001", "toPhone": "+33612345678",
                                          "message": "Hello {{contact.firstname}}, your order has shipped." }),
        workflow_id: 444,
    };
    let url = format!("{host_url}/integrations/hubspot/actions/send-sms");
    match sandbox.hubspot().execute_workflow_action(&url, execution).await {
        Ok(out) => eprintln!("▶ {:<26} HubSpot workflow \"Send SMS\" → {} {}", "hubspot-workflow", out.status, out.body["outputFields"]),
        Err(e) => eprintln!("▶ hubspot-workflow failed: {e}"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Fixed ports when people look around; free ones for --quick.
fn ports(quick: bool) -> Ports {
    if quick {
        Ports::default()
    } else {
        Ports { aircall: 4010, intercom: 4011, helpscout: 4012, gorgias: 4013, hubspot: 4014, notes: 4020 }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("demo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let plugins = args.plugins.clone().unwrap_or_else(|| root().join("dist/plugins"));
    if !plugins.is_dir() {
        anyhow::bail!("{} does not exist: build the plugins first (`cargo xtask plugins`, or run `cargo xtask demo`)", plugins.display());
    }
    let data = args.data.clone().unwrap_or_else(|| root().join("target/demo"));
    if data.exists() {
        std::fs::remove_dir_all(&data).map_err(|e| anyhow::anyhow!("cannot empty {}: {e}", data.display()))?;
    }
    std::fs::create_dir_all(&data)?;

    switchboard_sandbox::install_crypto_provider();
    let sandbox = Sandbox::start(SandboxOptions { ports: ports(args.quick), ..SandboxOptions::default() })
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the sandbox (is another demo running?): {e}"))?;
    let listen = if args.quick { "127.0.0.1:0" } else { args.listen.as_str() };
    let (text, used) = config::build(&sandbox, listen, &data, &plugins);
    // The admin console on its own port (signed in with the link printed below).
    let console_listen = if args.quick { "127.0.0.1:0" } else { args.console_listen.as_str() };
    let text = format!("{text}\n[console]\nlisten = \"{console_listen}\"\n");
    if used.is_empty() {
        anyhow::bail!("no bundled plugin with a demo recipe is built in {}", plugins.display());
    }
    let config_path = data.join("switchboard.toml");
    std::fs::write(&config_path, &text)?;
    let config = Config::load(&config_path)?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
    let host_url = format!("http://{}", listener.local_addr()?);
    let app = App::start(config).await?;
    let state = app.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let console_listener = tokio::net::TcpListener::bind(console_listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {console_listen} (console): {e}"))?;
    let console_url = format!("http://{}", console_listener.local_addr()?);
    let (stop_console, console_stopped) = tokio::sync::oneshot::channel::<()>();
    let console = tokio::spawn(switchboard::console::serve(state.clone(), console_listener, async {
        let _ = console_stopped.await;
    }));
    eprintln!("switchboard demo: host {host_url} with plugins {}; store {}", used.join(", "), data.join("switchboard.db").display());

    let world = World::bundled()?;
    let names: Vec<String> =
        if args.scenarios.is_empty() { DEMO_SCENARIOS.iter().map(|s| s.to_string()).collect() } else { args.scenarios.clone() };
    // The Aircall emulator answers GET /v1/calls/:id as the calls stand; media links are fetchable.
    let options = PlayOptions::new(&host_url, config::TOKEN)
        .speed(args.speed)
        .aircall(sandbox.aircall_url())
        .media_base(&config::media_base(&sandbox));
    let mut refused = 0;
    for name in &names {
        let scenario = simulate::load(name, &world)?;
        let report = simulate::play(&scenario, &world, &options).await?;
        eprintln!("▶ {name:<26} {} webhooks · {}", report.posted, scenario.description);
        for r in &report.rejected {
            eprintln!("  refused {}: {} {}", r.event, r.status, r.body);
        }
        for r in &report.aircall_failed {
            eprintln!("  the Aircall emulator did not take the call before {}: {} {}", r.event, r.status, r.body);
        }
        refused += report.rejected.len() + report.aircall_failed.len();
    }

    if used.contains(&"hubspot") {
        workflow_sms(&sandbox, &host_url).await;
    }

    // Wait for the plugins to finish (retries included).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last_note = Instant::now();
    let mut empty_once = false;
    let settled = loop {
        let depth = state.dispatcher.depth();
        if depth == 0 && empty_once {
            break true;
        }
        empty_once = depth == 0;
        if Instant::now() > deadline {
            break false;
        }
        if last_note.elapsed() > Duration::from_secs(3) {
            eprintln!("  … {depth} jobs still queued (retrying?)");
            last_note = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("{}", summary::render(&sandbox, &used));
    if !settled {
        println!(
            "⚠ {} jobs still queued after 120 s: see `switchboard dead-letters list --config {}` and the log (RUST_LOG=info)",
            state.dispatcher.depth(),
            config_path.display()
        );
    }

    let token = switchboard::console::auth::issue_link(&state.store, switchboard::clock::now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("console sign-in link: {e}"))?;
    println!("console  {console_url}/   sign in (once, 10 minutes): {console_url}/sign-in?token={token}");
    println!("  another link: cargo run -p switchboard -- console-link --config {}", config_path.display());

    if args.quick {
        // Nobody opens the link of a quick run: follow it here, so a run (and
        // its test) shows that the printed link signs in and the console answers.
        match check_console(&console_url, &token).await {
            Ok(()) => println!("console checked: the sign-in link opened a session and the overview answered"),
            Err(e) => {
                println!("⚠ console check failed: {e}");
                refused += 1;
            }
        }
        let _ = stop_console.send(());
        let _ = console.await;
        let _ = stop.send(());
        let _ = server.await;
        return Ok(if settled && refused == 0 { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE });
    }
    println!("\n{}", sandbox.describe());
    println!("switchboard host  {host_url}  (webhooks: POST /webhooks/aircall with token \"{}\")", config::TOKEN);
    println!(
        "  more calls:  cargo run -p switchboard -- simulate --list | inbound-answered --to {host_url} --aircall {} --media-base {} --speed 30",
        sandbox.aircall_url(),
        config::media_base(&sandbox)
    );
    println!("  config:      {}", config_path.display());
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    let _ = stop_console.send(());
    let _ = console.await;
    let _ = stop.send(());
    let _ = server.await;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Sign in with the one-time link as a browser would, then open the overview.
async fn check_console(console_url: &str, token: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let signed = client.get(format!("{console_url}/sign-in?token={token}")).send().await?;
    if signed.status() != reqwest::StatusCode::SEE_OTHER {
        anyhow::bail!("the sign-in link answered {}", signed.status());
    }
    let cookie = signed
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_console="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the sign-in link set no session cookie"))?;
    let overview = client.get(format!("{console_url}/")).header(reqwest::header::COOKIE, cookie).send().await?;
    let status = overview.status();
    let body = overview.text().await?;
    if status != reqwest::StatusCode::OK || !body.contains("<h1>Overview</h1>") {
        anyhow::bail!("the overview answered {status}");
    }
    Ok(())
}
