//! Why tests failed, repeated at the very end of a long `cargo test` run.
//!
//! A failing test's panic message is printed in the middle of the output, and
//! with `RUST_BACKTRACE` set it is followed by dozens of frames; a CI log cut
//! to its head and tail then shows which test failed but not why. [`run`]
//! passes the output through unchanged and, when the run fails, ends it with
//! each panic's first lines.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// Lines of a panic message kept (the place and the first lines of the text).
const MESSAGE_LINES: usize = 8;

/// Characters of one kept line (a message may quote a whole host log).
const LINE_CHARS: usize = 400;

/// Collects the panics of a test run's output, line by line.
#[derive(Default)]
pub struct Panics {
    found: Vec<Vec<String>>,
    /// Lines still to take for the last panic found.
    taking: usize,
}

impl Panics {
    /// Looks at one line of output.
    pub fn see(&mut self, line: &str) {
        if line.starts_with("thread '") && line.contains("' panicked at ") {
            self.found.push(vec![cut(line)]);
            self.taking = MESSAGE_LINES;
        } else if self.taking > 0 {
            if line.starts_with("stack backtrace:") || line.starts_with("note: run with `RUST_BACKTRACE") {
                self.taking = 0;
            } else if let Some(last) = self.found.last_mut() {
                last.push(cut(line));
                self.taking -= 1;
            }
        }
    }

    /// The summary to print, or `None` when nothing panicked.
    pub fn summary(&self) -> Option<String> {
        if self.found.is_empty() {
            return None;
        }
        let mut out = format!("xtask: why the {} panic(s) above happened (first lines of each):\n", self.found.len());
        for lines in &self.found {
            for line in lines {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        Some(out)
    }
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// Runs `cmd` (a `cargo test`), its standard output passed through as it
/// comes; on failure, the panics' first lines are printed last.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {cmd:?}");
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let mut panics = Panics::default();
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout().lock();
        for line in BufReader::new(out).split(b'\n') {
            let line = line.map_err(|e| format!("reading the output of {cmd:?}: {e}"))?;
            let _ = stdout.write_all(&line);
            let _ = stdout.write_all(b"\n");
            let _ = stdout.flush();
            panics.see(&String::from_utf8_lossy(&line));
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for {cmd:?}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    if let Some(summary) = panics.summary() {
        println!("\n{summary}");
    }
    Err(format!("{cmd:?} failed with {status}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn seen(text: &str) -> Panics {
        let mut p = Panics::default();
        text.lines().for_each(|l| p.see(l));
        p
    }

    #[test]
    fn keeps_the_place_and_message_and_drops_the_backtrace() {
        let p = seen(
            "test a ... ok\n---- browser::x stdout ----\n\nthread 'browser::x' panicked at tests/e2e/browser.rs:12:5:\n\
             \"Saved\" never showed on http://x; the page says:\nnope\nstack backtrace:\n   0: frame\n",
        );
        let s = p.summary().unwrap();
        assert!(s.contains("1 panic(s)"), "{s}");
        assert!(s.contains("browser.rs:12:5") && s.contains("never showed") && s.contains("nope"), "{s}");
        assert!(!s.contains("frame") && !s.contains("test a"), "{s}");
    }

    #[test]
    fn a_long_message_is_cut_and_a_clean_run_says_nothing() {
        let long = "x".repeat(5000);
        let p = seen(&format!("thread 't' panicked at a.rs:1:1:\n{long}\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"));
        let s = p.summary().unwrap();
        assert!(s.len() < 1000 + 9 * 10, "{} chars", s.len());
        assert!(s.contains("  7\n") && !s.contains("  8\n"), "{s}");
        assert!(seen("test a ... ok\ntest result: ok.\n").summary().is_none());
    }
}
