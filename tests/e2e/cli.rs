//! The operator's command line, run as a person would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn switchboard(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn phone_normalize_prints_e164_and_explains_failures() {
    let (code, out, _) = switchboard(&["phone", "normalize", "--region", "FR", "07 62 04 35 75"]);
    assert_eq!((code, out.trim()), (0, "+33762043575"));
    // A seed form plain libphonenumber rejects.
    let (code, out, _) = switchboard(&["phone", "normalize", "--region", "ES", "0911239613"]);
    assert_eq!((code, out.trim()), (0, "+34911239613"));
    let (code, out, _) = switchboard(&["phone", "normalize", "anonymous"]);
    assert_eq!((code, out.trim()), (0, "anonymous"));
    let (code, out, err) = switchboard(&["phone", "normalize", "--region", "FR", "07 62"]);
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("too short"), "stderr should say why: {err}");
}

#[test]
fn phone_variants_prints_one_per_line_each_normalising_back() {
    let (code, out, _) = switchboard(&["phone", "variants", "+33762043575"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    for expected in ["+33762043575", "+33 7 62 04 35 75", "07 62 04 35 75", "0762043575"] {
        assert!(lines.contains(&expected), "{expected} missing from {lines:?}");
    }
    for line in &lines {
        let (code, back, _) = switchboard(&["phone", "normalize", "--region", "FR", line]);
        assert_eq!((code, back.trim()), (0, "+33762043575"), "{line}");
    }
    let (code, _, err) = switchboard(&["phone", "variants", "not-a-number"]);
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}

#[test]
fn check_names_the_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[accounts]]\nid = \"main\"\nwebhook_token = \"long-enough-token\"\n[[integrations]]\nid = \"x\"\naccount = \"nope\"\nplugin = \"example\"\n",
    )
    .unwrap();
    let (code, _, err) = switchboard(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("integrations[0].account") && err.contains("nope"), "{err}");
}

// ------------------------------------------------ check: settings against the manifest

/// The repository root (the host crate is `host/`).
fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Copy the built plugins (`cargo xtask plugins`) named by the config's
/// integrations into `dir/plugins`.
fn copy_plugins(dir: &std::path::Path, names: &[String]) {
    for name in names {
        let from = repo().join("dist/plugins").join(name);
        let to = dir.join("plugins").join(name);
        std::fs::create_dir_all(&to).unwrap();
        for file in ["plugin.toml", "plugin.wasm"] {
            std::fs::copy(from.join(file), to.join(file))
                .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask plugins {name}` first)", from.join(file).display()));
        }
    }
}

const ACCOUNT: &str = "[[accounts]]\nid = \"main\"\nwebhook_token = \"long-enough-token\"\n";

/// `switchboard check` on one integration table of `plugin` (its body after
/// `plugin = …`), with the built plugin; returns (exit code, stdout, stderr).
fn check_integration(plugin: &str, body: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    copy_plugins(dir.path(), &[plugin.to_string()]);
    let path = dir.path().join("switchboard.toml");
    std::fs::write(
        &path,
        format!("[plugins]\ndir = \"plugins\"\nwatch = false\n\n{ACCOUNT}\n[[integrations]]\nid = \"it\"\naccount = \"main\"\nplugin = \"{plugin}\"\n{body}\n"),
    )
    .unwrap();
    switchboard(&["check", "--config", path.to_str().unwrap()])
}

fn refused(plugin: &str, body: &str, expected: &[&str]) -> String {
    let (code, out, err) = check_integration(plugin, body);
    assert_eq!(code, 1, "check should refuse\nstdout: {out}\nstderr: {err}");
    for e in expected {
        assert!(err.contains(e), "stderr should contain {e:?}:\n{err}");
    }
    assert!(!err.contains("not found") && !err.contains("no plugin"), "only the real reason is reported:\n{err}");
    err
}

#[test]
fn check_refuses_a_setting_outside_its_allowed_values_and_lists_them() {
    refused(
        "helpscout",
        "settings = { mailboxes = { \"2001\" = 30411 }, matching_rule = \"newest\" }\nsecrets = { token = \"t\" }",
        &[r#"integrations[0].settings.matching_rule: "newest" is not one of "most_recent", "oldest", "none", "log_nothing""#],
    );
    refused(
        "intercom",
        "settings = { sms_target = \"latest\" }\nsecrets = { token = \"t\" }",
        &[r#"integrations[0].settings.sms_target: "latest" is not one of "last_open_conversation", "new_conversation""#],
    );
    refused(
        "gorgias",
        "base_url = \"https://acme.gorgias.com\"\nsettings = { tags = [\"aircall\", \"vip\"] }\nsecrets = { api = \"ops@acme.test:key\" }",
        &[r#"integrations[0].settings.tags[1]: "vip" is not one of"#, "\"missed\""],
    );
}

#[test]
fn check_refuses_helpscout_without_mailboxes() {
    refused("helpscout", "secrets = { token = \"t\" }", &["integrations[0].settings.mailboxes: required by plugin helpscout"]);
    refused(
        "helpscout",
        "settings = { mailboxes = {} }\nsecrets = { token = \"t\" }",
        &["integrations[0].settings.mailboxes", "must not be empty"],
    );
}

#[test]
fn check_refuses_a_gorgias_secret_without_the_email_part_without_printing_it() {
    let err = refused(
        "gorgias",
        "base_url = \"https://acme.gorgias.com\"\nsecrets = { api = \"just-the-api-key-42\" }",
        &["integrations[0].secrets.api", "email:token"],
    );
    assert!(!err.contains("just-the-api-key-42"), "the secret leaked: {err}");
    // And the account domain is required: there is no public Gorgias API root.
    refused("gorgias", "secrets = { api = \"ops@acme.test:key\" }", &["integrations[0].base_url", "gorgias"]);
}

#[test]
fn check_refuses_a_second_base_url_in_settings_naming_both_keys() {
    refused(
        "example",
        "base_url = \"https://api.example.com\"\nsettings = { base_url = \"https://api.example.com\" }\nsecrets = { api = \"t\" }",
        &["integrations[0].settings.base_url", "integrations[0].base_url"],
    );
}

#[test]
fn check_refuses_hubspot_sms_numbers_outside_the_integration_numbers() {
    refused(
        "hubspot",
        "numbers = [2001]\nsettings = { client_secret = \"s\", sms_numbers = [2001, 2002] }\nsecrets = { token = \"t\" }",
        &["integrations[0].settings.sms_numbers", "2002", "numbers (2001)"],
    );
    let (code, out, err) = check_integration(
        "hubspot",
        "numbers = [2001, 2002]\nsettings = { client_secret = \"s\", sms_numbers = [2001, 2002] }\nsecrets = { token = \"t\" }",
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_rejected_plugin_is_reported_with_its_reason_only() {
    let dir = tempfile::tempdir().unwrap();
    copy_plugins(dir.path(), &["example".to_string()]);
    let manifest = dir.path().join("plugins/example/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("contract = \"0.2.0\"", "contract = \"9.9.9\"");
    std::fs::write(&manifest, text).unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(
        &path,
        format!(
            "[plugins]\ndir = \"plugins\"\n\n{ACCOUNT}\n[[integrations]]\nid = \"notes\"\naccount = \"main\"\nplugin = \"example\"\n\n[[integrations]]\nid = \"typo\"\naccount = \"main\"\nplugin = \"exmaple\"\n"
        ),
    )
    .unwrap();
    let (code, _, err) = switchboard(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("9.9.9") && err.contains("not supported"), "{err}");
    assert!(!err.contains("\"example\" not found") && !err.contains("no plugin \"example\""), "misleading: {err}");
    // A plugin that really is missing is still named as such.
    assert!(err.contains("integrations[1].plugin: no plugin \"exmaple\""), "{err}");
}

// ------------------------------------------------ check: every documented example

/// The ```toml blocks of a Markdown file that are configuration examples
/// (they hold an `[[integrations]]` table).
fn config_examples(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(block), "```") => {
                if block.contains("[[integrations]]") {
                    blocks.push(block.clone());
                }
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The `${VAR}` names an example uses.
fn env_vars(text: &str) -> Vec<String> {
    text.split("${").skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string())).collect()
}

#[test]
fn every_config_example_in_the_readmes_passes_check() {
    let mut files = vec![repo().join("README.md")];
    for entry in std::fs::read_dir(repo().join("plugins")).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.exists() {
            files.push(readme);
        }
    }
    let mut checked = 0;
    for file in files {
        let markdown = std::fs::read_to_string(&file).unwrap();
        for (i, example) in config_examples(&markdown).into_iter().enumerate() {
            let what = format!("{} example {}", file.display(), i + 1);
            let mut table: toml::Table = example.parse().unwrap_or_else(|e| panic!("{what} is not TOML: {e}\n{example}"));
            let dir = tempfile::tempdir().unwrap();
            // Keep the example's own settings; only the paths point into the temp dir.
            let section =
                |t: &mut toml::Table, name: &str| -> toml::Table { t.remove(name).and_then(|v| v.as_table().cloned()).unwrap_or_default() };
            let mut store = section(&mut table, "store");
            store.insert("path".into(), toml::Value::String(dir.path().join("data/switchboard.db").display().to_string()));
            table.insert("store".into(), toml::Value::Table(store));
            let mut plugins = section(&mut table, "plugins");
            plugins.insert("dir".into(), toml::Value::String("plugins".into()));
            plugins.insert("watch".into(), toml::Value::Boolean(false));
            table.insert("plugins".into(), toml::Value::Table(plugins));
            let mut text = toml::to_string(&table).unwrap();
            if !table.contains_key("accounts") {
                text = format!("{ACCOUNT}\n{text}");
            }
            let names: Vec<String> =
                table["integrations"].as_array().unwrap().iter().map(|i| i["plugin"].as_str().unwrap().to_string()).collect();
            copy_plugins(dir.path(), &names);
            let path = dir.path().join("switchboard.toml");
            std::fs::write(&path, &text).unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
            cmd.args(["check", "--config", path.to_str().unwrap()]);
            for var in env_vars(&example) {
                let dummy = if var.contains("EMAIL") { "ops@example.com" } else { "dummy-value-0123456789" };
                cmd.env(var, dummy);
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{what} fails `switchboard check`:\n{}{}\n--- example ---\n{example}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // The compile cache lands next to the store, not in the plugin directory.
            assert!(dir.path().join("data/plugin-cache").is_dir(), "{what}: no compile cache next to the store");
            assert!(!dir.path().join("plugins/.cache").exists(), "{what}: compile cache inside the plugin directory");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
}

// ------------------------------------------------ config errors never print secrets

/// A secret as an operator would keep it in the environment; no output of
/// `check` or `serve` may contain it (nor a recognisable piece of it).
const SECRET: &str = "sk_live_7f3aC9-DoNotPrint-e41b";

/// Run `switchboard CMD --config FILE` with `SB_SECRET` set; (exit code, stdout + stderr).
/// `serve` must fail on the configuration, so it is given 60 s at most.
fn run_with_secret(cmd: &str, config: &std::path::Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([cmd, "--config", config.to_str().unwrap()])
        .env("SB_SECRET", SECRET)
        .env("SB_OTHER", "another-long-token-value")
        .env_remove("SB_UNSET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`switchboard {cmd}` did not refuse {}", config.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn config_errors_show_the_file_text_never_the_secret_from_the_environment() {
    let account = |extra: &str| {
        format!("[server]\nlisten = \"127.0.0.1:0\"\n\n[[accounts]]\nid = \"main\"\nwebhook_token = \"${{SB_SECRET}}\"\n{extra}")
    };
    // (what, file, text the message must contain)
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown key next to the token", account("webhok_tokn = \"x\"\n"), "webhok_tokn"),
        ("duplicate key", account("webhook_token = \"${SB_SECRET}\"\n"), "webhook_token"),
        ("syntax error on the token's line", account("").replace("\"${SB_SECRET}\"", "\"${SB_SECRET}\" trailing"), "${SB_SECRET}"),
        ("unterminated string", account("").replace("\"${SB_SECRET}\"", "\"${SB_SECRET}"), "${SB_SECRET}"),
        ("wrong type for a value from the environment", account("api_requests_per_minute = \"${SB_SECRET}\"\n"), "api_requests_per_minute"),
        ("wrong type next to the token", account("id = 5\n").replace("id = \"main\"\n", ""), "id"),
        ("bad value in a secret-bearing field", account("api_base = \"${SB_SECRET}\"\n"), "api_base"),
        (
            "bad base_url from the environment",
            account("[[integrations]]\nid = \"x\"\naccount = \"main\"\nplugin = \"example\"\nbase_url = \"${SB_SECRET}\"\n"),
            "base_url",
        ),
        (
            "two accounts with the same secret token",
            account("[[accounts]]\nid = \"other\"\nwebhook_token = \"${SB_SECRET}\"\n"),
            "share one webhook token",
        ),
        ("missing environment variable", account("api_token = \"${SB_UNSET}\"\n"), "SB_UNSET"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let piece = &SECRET[8..20];
    for (what, text, expected) in &cases {
        let path = dir.path().join("switchboard.toml");
        std::fs::write(&path, text).unwrap();
        for cmd in ["check", "serve"] {
            let (code, output) = run_with_secret(cmd, &path);
            assert_ne!(code, 0, "{cmd} should refuse ({what}):\n{output}");
            assert!(!output.contains(SECRET) && !output.contains(piece), "`{cmd}` printed the secret ({what}):\n{output}");
            assert!(output.contains(expected), "`{cmd}` should name {expected:?} ({what}):\n{output}");
        }
    }
}

/// A store with one dead job whose last write is ambiguous (sent, never answered).
async fn store_with_an_ambiguous_dead_letter(dir: &std::path::Path) -> (std::path::PathBuf, i64) {
    use switchboard::store::{IngestOutcome, JournalEntry, JournalWrite, NewEvent, NewJob, SqliteStore, Store};
    let config = dir.join("switchboard.toml");
    std::fs::write(&config, "[store]\npath = \"switchboard.db\"\n\n[[accounts]]\nid = \"main\"\nwebhook_token = \"token-123456\"\n")
        .unwrap();
    let store = SqliteStore::open(&dir.join("switchboard.db"), std::time::Duration::ZERO).unwrap();
    let event = NewEvent {
        account: "main".into(),
        event_name: "call.ended".into(),
        body: "{}".into(),
        body_hash: [1; 32],
        received_at_ms: 1,
        not_dispatched: None,
        origin: Default::default(),
        occurrence: None,
    };
    let IngestOutcome::Accepted { jobs, .. } =
        store.ingest(event, vec![NewJob { integration: "notes".into(), ordering_key: "k".into() }], 1_000).await.unwrap()
    else {
        panic!("not accepted")
    };
    let job = jobs[0].id;
    for (seq, done) in [(0, true), (1, false)] {
        let entry = JournalEntry { seq, fingerprint: vec![seq as u8], done, result: if done { vec![1] } else { vec![] } };
        store.journal_write(JournalWrite { job_id: job, entry, kv: None }).await.unwrap();
    }
    store.job_dead(job, 3, "ambiguous: a write may have happened").await.unwrap();
    (config, job)
}

#[tokio::test]
async fn replaying_an_ambiguous_dead_letter_says_so_and_repeats_the_write_only_when_told() {
    use switchboard::store::{SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let (config, job) = store_with_an_ambiguous_dead_letter(dir.path()).await;
    let config = config.display().to_string();
    let (code, out, _) = switchboard(&["dead-letters", "replay", &job.to_string(), "--config", &config]);
    assert_eq!(code, 0);
    assert!(out.contains("may have happened (ambiguous)") && out.contains("--repeat-ambiguous"), "{out}");
    let store = SqliteStore::open(&dir.path().join("switchboard.db"), std::time::Duration::ZERO).unwrap();
    assert_eq!(store.journal(job).await.unwrap().len(), 2, "without the flag the journal keeps the ambiguity");

    store.job_dead(job, 3, "ambiguous again").await.unwrap();
    let (code, out, _) = switchboard(&["dead-letters", "replay", &job.to_string(), "--repeat-ambiguous", "--config", &config]);
    assert_eq!(code, 0);
    assert!(out.contains("will be performed again") && out.contains("1 job(s) queued again"), "{out}");
    let journal = store.journal(job).await.unwrap();
    assert_eq!(journal.iter().map(|e| e.seq).collect::<Vec<_>>(), [0], "the answered write stays, the ambiguous one goes");
}
