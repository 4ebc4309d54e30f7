//! Local emulators of the APIs switchboard talks to: Aircall, Intercom, Help
//! Scout, Gorgias and HubSpot. Each runs on its own loopback port with
//! in-memory state, a request journal and fault injection.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use switchboard_sandbox::{Sandbox, SandboxOptions, Fault};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?;
//! let url = sandbox.aircall_url();          // http://127.0.0.1:PORT
//! sandbox.aircall().inject(Fault { fail_next: 1, status: Some(503), ..Fault::default() });
//! let cards = sandbox.aircall().state().insight_cards;
//! # let _ = (url, cards); Ok(()) }
//! ```
//!
//! Every emulator also answers `GET /_sandbox/state`, `GET /_sandbox/requests`,
//! `POST /_sandbox/reset`, `POST /_sandbox/seed`, `GET|POST|DELETE /_sandbox/faults`, and
//! `GET /_sandbox/media/NAME?bytes=N&type=MIME` (a stand-in for Aircall's file storage).
//!
//! Each vendor emulator (not the notes API) also runs its vendor's OAuth
//! authorization server on the vendor's paths ([`common::oauth`]), configured
//! through `oauth()` on its handle or `GET|POST /_sandbox/oauth`.

pub mod aircall;
pub mod common;
pub mod gorgias;
pub mod helpscout;
pub mod hubspot;
pub mod intercom;
pub mod notes;

use std::net::{Ipv4Addr, SocketAddr};

pub use aircall::{Aircall, AircallCredentials};
pub use common::{Fault, OAuthOptions, OAuthServer, RequestRecord, Running, TokenRequest};
pub use gorgias::{Gorgias, GorgiasCredentials, GorgiasRate};
pub use helpscout::{HelpScout, HelpScoutCredentials};
pub use hubspot::{HubSpot, HubSpotCredentials};
pub use intercom::{Intercom, IntercomCredentials};
pub use notes::Notes;

/// The bearer token the notes emulator accepts by default.
pub const NOTES_TOKEN: &str = "sandbox-notes-token";

/// How to start the sandbox. `Default` = every emulator on a free loopback port.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Ports (0 = pick a free one).
    pub ports: Ports,
    /// Aircall credentials accepted.
    pub aircall: AircallCredentials,
    /// Intercom credentials accepted.
    pub intercom: IntercomCredentials,
    /// Help Scout credentials accepted.
    pub helpscout: HelpScoutCredentials,
    /// Gorgias credentials accepted.
    pub gorgias: GorgiasCredentials,
    /// Gorgias rate limit.
    pub gorgias_rate: GorgiasRate,
    /// HubSpot credentials accepted (and the client secret that signs action calls).
    pub hubspot: HubSpotCredentials,
}

/// Fixed ports for the emulators (0 = any free port).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    pub aircall: u16,
    pub intercom: u16,
    pub helpscout: u16,
    pub gorgias: u16,
    pub hubspot: u16,
    /// The generic notes API of the reference plugin.
    pub notes: u16,
}

/// All emulators, running. Dropping it stops them.
pub struct Sandbox {
    aircall: Running<Aircall>,
    intercom: Running<Intercom>,
    helpscout: Running<HelpScout>,
    gorgias: Running<Gorgias>,
    hubspot: Running<HubSpot>,
    notes: Running<Notes>,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

impl Sandbox {
    /// Starts every emulator.
    pub async fn start(options: SandboxOptions) -> anyhow::Result<Self> {
        let creds = options.aircall.clone();
        let aircall = common::harness::launch(loopback(options.ports.aircall), |base| Aircall::new(base, creds)).await?;
        let creds = options.intercom.clone();
        let intercom = common::harness::launch(loopback(options.ports.intercom), |base| Intercom::new(base, creds)).await?;
        let creds = options.helpscout.clone();
        let helpscout = common::harness::launch(loopback(options.ports.helpscout), |base| HelpScout::new(base, creds)).await?;
        let (creds, rate) = (options.gorgias.clone(), options.gorgias_rate);
        let gorgias = common::harness::launch(loopback(options.ports.gorgias), |base| Gorgias::new(base, creds, rate)).await?;
        let creds = options.hubspot.clone();
        let hubspot = common::harness::launch(loopback(options.ports.hubspot), |base| HubSpot::new(base, creds)).await?;
        let notes = common::harness::launch(loopback(options.ports.notes), |base| Notes::new(base, vec![NOTES_TOKEN.to_string()])).await?;
        Ok(Self { aircall, intercom, helpscout, gorgias, hubspot, notes })
    }

    /// The Aircall emulator.
    pub fn aircall(&self) -> &Running<Aircall> {
        &self.aircall
    }

    /// Base URL of the Aircall emulator (paths start with `/v1`).
    pub fn aircall_url(&self) -> &str {
        self.aircall.url()
    }

    /// The Intercom emulator.
    pub fn intercom(&self) -> &Running<Intercom> {
        &self.intercom
    }

    /// Base URL of the Intercom emulator (stands for `https://api.intercom.io`).
    pub fn intercom_url(&self) -> &str {
        self.intercom.url()
    }

    /// The Help Scout emulator.
    pub fn helpscout(&self) -> &Running<HelpScout> {
        &self.helpscout
    }

    /// Base URL of the Help Scout emulator (stands for `https://api.helpscout.net`; paths start with `/v2`).
    pub fn helpscout_url(&self) -> &str {
        self.helpscout.url()
    }

    /// The Gorgias emulator.
    pub fn gorgias(&self) -> &Running<Gorgias> {
        &self.gorgias
    }

    /// Base URL of the Gorgias emulator (stands for `https://{account}.gorgias.com`; paths start with `/api`).
    pub fn gorgias_url(&self) -> &str {
        self.gorgias.url()
    }

    /// The HubSpot emulator.
    pub fn hubspot(&self) -> &Running<HubSpot> {
        &self.hubspot
    }

    /// Base URL of the HubSpot emulator (stands for `https://api.hubapi.com`).
    pub fn hubspot_url(&self) -> &str {
        self.hubspot.url()
    }

    /// The generic notes API (what the reference plugin writes to).
    pub fn notes(&self) -> &Running<Notes> {
        &self.notes
    }

    /// Base URL of the notes emulator (`POST /notes`).
    pub fn notes_url(&self) -> &str {
        self.notes.url()
    }

    /// `text` with `{aircall}`, `{intercom}`, `{helpscout}`, `{gorgias}`,
    /// `{hubspot}` and `{notes}` replaced by the emulators' base URLs (for
    /// configuration templates).
    pub fn fill_urls(&self, text: &str) -> String {
        text.replace("{aircall}", self.aircall_url())
            .replace("{intercom}", self.intercom_url())
            .replace("{helpscout}", self.helpscout_url())
            .replace("{gorgias}", self.gorgias_url())
            .replace("{hubspot}", self.hubspot_url())
            .replace("{notes}", self.notes_url())
    }

    /// Human-readable list of the URLs and the credentials to use.
    pub fn describe(&self) -> String {
        let a = self.aircall.credentials();
        let mut out = String::from("switchboard sandbox is running\n");
        out += &format!(
            "  Aircall    {}  Basic {}:{}  (or Bearer {})\n",
            self.aircall_url(),
            a.api_id,
            a.api_token,
            a.bearer_tokens.join(" | ")
        );
        out += &oauth_line(self.aircall_url(), self.aircall.oauth());
        out += &format!(
            "  Intercom   {}  Bearer {}  (Intercom-Version: 2.16)\n",
            self.intercom_url(),
            self.intercom.credentials().tokens.join(" | ")
        );
        out += &oauth_line(self.intercom_url(), self.intercom.oauth());
        let h = self.helpscout.credentials();
        out += &format!(
            "  Help Scout {}  Bearer {}  (or an OAuth token; the code flow needs the option registered_redirect)\n",
            self.helpscout_url(),
            h.tokens.join(" | ")
        );
        out += &oauth_line(self.helpscout_url(), self.helpscout.oauth());
        let g = self.gorgias.credentials();
        let r = self.gorgias.rate();
        out += &format!(
            "  Gorgias    {}  Basic {}:{}  (or Bearer {}); rate limit {}/{} s\n",
            self.gorgias_url(),
            g.email,
            g.api_key,
            g.bearer_tokens.join(" | "),
            r.limit,
            r.window_secs
        );
        out += &oauth_line(self.gorgias_url(), self.gorgias.oauth());
        let h = self.hubspot.credentials();
        out += &format!(
            "  HubSpot    {}  Bearer {}  (workflow actions signed with client secret {})\n",
            self.hubspot_url(),
            h.tokens.join(" | "),
            h.client_secret
        );
        out += &oauth_line(self.hubspot_url(), self.hubspot.oauth());
        out += &format!("  Notes      {}  Bearer {}  (the reference plugin's generic notes API)\n", self.notes_url(), NOTES_TOKEN);
        out += "Every emulator: GET /_sandbox/state, GET /_sandbox/requests, POST /_sandbox/reset, POST /_sandbox/seed, POST /_sandbox/faults\n";
        out +=
            "OAuth options and tokens: GET|POST /_sandbox/oauth; Aircall uninstall (sends integration.deleted): POST /_sandbox/uninstall\n";
        out
    }
}

/// The banner line of one emulator's OAuth server: its paths and app credentials.
fn oauth_line(url: &str, oauth: &OAuthServer) -> String {
    let (v, o) = (oauth.vendor(), oauth.options());
    let tokens: Vec<String> = v.token_paths.iter().map(|p| format!("{url}{p}")).collect();
    format!(
        "             OAuth: GET {url}{}  POST {}  client_id={} client_secret={}\n",
        v.authorize_path,
        tokens.join(" | "),
        o.client_id,
        o.client_secret
    )
}

/// Installs the process-wide rustls crypto provider (ring) if none is set, as
/// reqwest's `rustls-no-provider` build needs one before a client is built.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only means another thread installed one first.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A plain reqwest client, for tests and the HubSpot workflow-action client.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    install_crypto_provider();
    Ok(reqwest::Client::builder().build()?)
}
