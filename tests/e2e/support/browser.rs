//! A real headless Chromium, driven over WebDriver: `chromedriver` (Debian's
//! `chromium-driver`) on a free port, one browser session per [`Browser`],
//! commanded with `fantoccini`. Helpers fill and submit forms, click, read a
//! page's text and source, and take screenshots of the console.
//!
//! - **Missing browser**: without `/usr/bin/chromium` (or the binary named by
//!   `SWITCHBOARD_CHROMIUM`) and `chromedriver` the browser tests are skipped
//!   with a loud message on a developer's machine, and fail under CI
//!   (`CI=true`), where `.ci/run` installs both.
//! - **JavaScript off**: [`Js::Off`] starts Chromium with the content setting
//!   `profile.managed_default_content_settings.javascript = 2`, as an admin
//!   who disabled it would browse.
//! - **Screenshots** are written to `docs/console/NAME.png` only when
//!   `SWITCHBOARD_SCREENSHOTS=1` is set: the pages show times and ids that
//!   differ every run, so the committed pictures change only when someone
//!   means to refresh them (`SWITCHBOARD_SCREENSHOTS=1 cargo test -p
//!   switchboard --test e2e browser::`).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser (`SWITCHBOARD_CHROMIUM` overrides it).
const CHROMIUM: &str = "/usr/bin/chromium";

/// The Chromium binary to drive.
fn chromium() -> PathBuf {
    std::env::var_os("SWITCHBOARD_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from)
}
/// The environment variable that turns screenshots on.
pub const SCREENSHOTS_ENV: &str = "SWITCHBOARD_SCREENSHOTS";

/// Whether pages may run JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    /// Chromium's default.
    On,
    /// Disabled by the profile's content setting.
    Off,
}

/// `chromedriver`, listening on a free port of its own; killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

/// The chromedriver binary, when both it and Chromium are installed.
fn chromedriver() -> Option<PathBuf> {
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].into_iter().map(PathBuf::from).find(|p| p.exists())?;
    chromium().exists().then_some(driver)
}

impl Driver {
    /// Starts chromedriver. `None` — after a loud message — when Chromium or
    /// chromedriver is not installed on a developer's machine; under CI
    /// (`CI=true`) a missing browser fails the test instead.
    pub async fn start() -> Option<Driver> {
        switchboard_sandbox::install_crypto_provider();
        let Some(binary) = chromedriver() else {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "CI=true but Chromium ({}) or chromedriver is missing: .ci/run installs `chromium chromium-driver`",
                chromium().display()
            );
            // Straight to the terminal: the test harness captures eprintln! of passing tests.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                  !!! SKIPPED: the browser tests need Chromium and chromedriver\n\
                  !!! (apt-get install -y chromium chromium-driver); nothing was checked.\n\
                  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n",
            );
            return None;
        };
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
            let mut driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if reqwest::get(format!("{}/status", driver.url)).await.is_ok_and(|r| r.status().is_success()) {
                    return Some(driver);
                }
                if driver.child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken: try another
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            driver.kill();
        }
        panic!("chromedriver did not answer on any of five ports");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One headless Chromium session.
pub struct Browser {
    client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new headless Chromium (its own throw-away profile) under `driver`.
    pub async fn open(driver: &Driver, js: Js) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut options = json!({
            "binary": chromium(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if js == Js::Off {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session from chromedriver: {e}"));
        Browser { client, _profile: profile }
    }

    /// Opens `url` and waits for the page.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The address of the page shown.
    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// The page's HTML as the browser has it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        element.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Whether an element matches `css`.
    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!("no element {css} on {}: {e}\n{}", self.url().await, self.text().await),
        }
    }

    /// Runs `act` on the element matching `css`. A page a click led to may
    /// still be replacing the one before it: an element found in the old page
    /// is stale by the time it is used, so it is looked up again (for 10 s at
    /// most) instead of failing the test.
    async fn on<T>(
        &self,
        css: &str,
        what: &str,
        act: impl AsyncFn(fantoccini::elements::Element) -> Result<T, fantoccini::error::CmdError>,
    ) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match act(self.find(css).await).await {
                Ok(v) => return v,
                Err(e) if e.to_string().contains("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{what} {css}: {e}"),
            }
        }
    }

    /// Types `value` into the field matching `css` (cleared first).
    pub async fn fill(&self, css: &str, value: &str) {
        self.on(css, "typing into", async |field| {
            field.clear().await?;
            field.send_keys(value).await
        })
        .await;
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.on(css, &format!("choosing {value:?} in"), async |e| e.select_by_value(value).await).await;
    }

    /// Ticks (`on`) or unticks the checkbox matching `css`, clicking it only when needed.
    pub async fn check(&self, css: &str, on: bool) {
        self.on(css, "ticking", async |b| if b.is_selected().await? != on { b.click().await } else { Ok(()) }).await;
    }

    /// Clicks the element matching `css` (a button submits its form, a link
    /// navigates) and waits for the next page.
    pub async fn click(&self, css: &str) {
        self.on(css, "clicking", async |e| e.click().await).await;
    }

    /// Clicks the button whose text is `label` (the first one), like a person would.
    pub async fn click_button(&self, label: &str) {
        let xpath = format!("//button[normalize-space(.)='{label}']");
        match self.client.find(Locator::XPath(&xpath)).await {
            Ok(b) => b.click().await.unwrap_or_else(|e| panic!("clicking {label:?}: {e}")),
            Err(e) => panic!("no button {label:?} on {}: {e}\n{}", self.url().await, self.text().await),
        }
    }

    /// Clicks the link whose text is `label`.
    pub async fn click_link(&self, label: &str) {
        match self.client.find(Locator::LinkText(label)).await {
            Ok(a) => a.click().await.unwrap_or_else(|e| panic!("following {label:?}: {e}")),
            Err(e) => panic!("no link {label:?} on {}: {e}", self.url().await),
        }
    }

    /// Reloads the page at `url` until its text satisfies `ok` (the host works
    /// in the background); panics after `timeout` with the last text and `log`
    /// (the host's).
    pub async fn wait_for_text(
        &self,
        url: &str,
        timeout: Duration,
        what: &str,
        log: impl Fn() -> String,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            self.goto(url).await;
            let text = self.text().await;
            if ok(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what} on {url}; the page says:\n{text}\nhost log:\n{}", log());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Waits (10 s at most, without reloading) until the page shown has `text`
    /// — the page a click leads to may still be loading — and returns its text.
    pub async fn shows(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.text().await;
            if now.contains(text) {
                return now;
            }
            assert!(Instant::now() < deadline, "{text:?} never showed on {}; the page says:\n{now}", self.url().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (10 s at most) until the address of the page shown contains
    /// `part` and that page has loaded.
    pub async fn at(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.url().await.contains(part) || !self.loaded().await {
            assert!(Instant::now() < deadline, "never got to a loaded page with {part:?} in its address; at {}", self.url().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the page shown has finished loading (`document.readyState`;
    /// taken as loaded where scripts cannot run).
    async fn loaded(&self) -> bool {
        self.client.execute("return document.readyState", vec![]).await.map_or(true, |v| v == "complete")
    }

    /// The value of cookie `name` the browser holds for the page shown.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.client.get_named_cookie(name).await.ok().map(|c| c.value().to_string())
    }

    /// Writes the visible page to `docs/console/NAME.png` when
    /// `SWITCHBOARD_SCREENSHOTS=1` (see the module's notes); returns whether it did.
    pub async fn screenshot(&self, name: &str) -> bool {
        if std::env::var(SCREENSHOTS_ENV).map_or(true, |v| v != "1") {
            return false;
        }
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "chromedriver's screenshot is not a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        true
    }

    /// Ends the session (the browser process exits).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
