//! How much heap the phone engine adds to a process.
//!
//! ```text
//! cargo run --release -p switchboard-phone --example memory
//! ```
//!
//! A counting global allocator records live heap bytes. The report shows the
//! heap after each stage: loading libphonenumber's database (first use), the
//! engine's index, the seven seed countries' compiled patterns (a typical
//! host), formatting rules, and finally every region compiled (the worst
//! case, reached only if calls from every country of the world arrive).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use switchboard_phone::{normalize, variants};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// A global allocator needs `unsafe impl`, which the workspace lints deny for
// library code; this example opts out for this one allocator, which only
// forwards to `System` and counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn mib(bytes: usize) -> String {
    format!("{:>7.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    let start = live();
    let mut last = start;
    let mut stage = |name: &str| {
        let now = live();
        println!("{name:<58} {} (+{})", mib(now - start), mib(now - last));
        last = now;
    };

    // libphonenumber's database alone (the `phonenumber` crate's lazy static).
    let _ = phonenumber::metadata::DATABASE.by_id("FR");
    stage("phonenumber database loaded");

    // First call: the engine's index over the database, one region compiled.
    let _ = normalize("+33762043575", None);
    stage("engine index + FR patterns (first normalize)");

    let seeds = [
        ("07 62 04 35 75", "FR"),
        ("(442) 249-7851", "US"),
        ("020 8765 3456", "GB"),
        ("(11) 4680-3559", "BR"),
        ("911 23 96 13", "ES"),
        ("0176 67402970", "DE"),
        ("(02) 8103 2081", "AU"),
    ];
    for (raw, region) in seeds {
        let _ = normalize(raw, Some(region));
    }
    stage("the seven seed countries' patterns");

    for e164 in ["+33762043575", "+14422497851", "+442087653456", "+551146803559", "+34911239613", "+4917667402970", "+61281032081"] {
        let _ = variants(e164);
    }
    stage("their formatting rules (variants)");

    for meta in phonenumber::metadata::DATABASE.iter() {
        let d = meta.descriptors();
        if let Some(example) = d.fixed_line().or(d.mobile()).and_then(|x| x.example()) {
            let e164 = format!("+{}{}", meta.country_code(), example);
            let _ = variants(&e164);
        }
    }
    stage("every region's patterns and formats (worst case)");

    println!("peak {}", mib(PEAK.load(Ordering::Relaxed) - start));
}
