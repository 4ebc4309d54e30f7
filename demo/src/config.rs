//! The host configuration of the demo: the sandbox's Aircall account and one
//! integration per bundled plugin that has a recipe in `demo/integrations/`.

use std::path::Path;

use switchboard_sandbox::Sandbox;

/// The webhook token of the demo account.
pub const TOKEN: &str = "local-demo-token";

/// The host name of the demo's recordings, voicemails and MMS files: an S3
/// bucket name, as Aircall's signed links have (aircall-api.md §4.1), so the
/// plugins that fetch them (they declare `*.amazonaws.com`) may; the host's
/// `[network] resolve` sends it to the sandbox, whose emulators all serve
/// `/_sandbox/media`.
pub const MEDIA_HOST: &str = "aircall-sandbox.s3.amazonaws.com";

/// Base of the demo's media links: [`MEDIA_HOST`] on the Aircall emulator's port.
pub fn media_base(sandbox: &Sandbox) -> String {
    let port = sandbox.aircall_url().rsplit(':').next().unwrap_or("80");
    format!("http://{MEDIA_HOST}:{port}")
}

/// Integration recipes: `(plugin name, [[integrations]] body)`, URLs as `{intercom}` etc.
pub const RECIPES: &[(&str, &str)] = &[
    ("example", include_str!("../integrations/example.toml")),
    ("intercom", include_str!("../integrations/intercom.toml")),
    ("helpscout", include_str!("../integrations/helpscout.toml")),
    ("gorgias", include_str!("../integrations/gorgias.toml")),
    ("hubspot", include_str!("../integrations/hubspot.toml")),
];

/// The configuration text, and the plugins it runs (those built in `plugins`).
pub fn build(sandbox: &Sandbox, listen: &str, data: &Path, plugins: &Path) -> (String, Vec<&'static str>) {
    let a = sandbox.aircall().credentials();
    let toml_path = |p: &Path| p.display().to_string().replace('\\', "/");
    let mut text = format!(
        r#"[server]
listen = "{listen}"
[store]
path = "{}"
[plugins]
dir = "{}"
watch = false
[limits]
retry_base_ms = 200
retry_cap_seconds = 5
[network]
allow_private = true
allow_http = true
resolve = {{ "{MEDIA_HOST}" = "127.0.0.1" }}

[[accounts]]
id = "demo"
webhook_token = "{TOKEN}"
api_id = "{}"
api_token = "{}"
api_base = "{}"
"#,
        toml_path(&data.join("switchboard.db")),
        toml_path(plugins),
        a.api_id,
        a.api_token,
        sandbox.aircall_url()
    );
    let mut used = Vec::new();
    for (plugin, recipe) in RECIPES {
        if plugins.join(plugin).join("plugin.wasm").exists() {
            text +=
                &format!("\n[[integrations]]\nid = \"{plugin}\"\naccount = \"demo\"\nplugin = \"{plugin}\"\n{}", sandbox.fill_urls(recipe));
            used.push(*plugin);
        }
    }
    (text, used)
}
