//! The threads plugin code runs on, apart from the ones that serve HTTP and
//! commit the store: a plugin spinning until its deadline (or eight of them)
//! takes plugin threads only, and the operating system still gives the
//! server's threads their turn, so webhook acks and `/healthz` stay fast.
//! Guests also yield to this pool's scheduler every epoch tick
//! ([`super::Runtime`]), so one looping plugin does not hold a thread that
//! other jobs are waiting for.

use std::future::Future;
use tokio::task::JoinHandle;

/// A dedicated multi-threaded tokio runtime for plugin jobs.
pub struct PluginPool {
    rt: Option<tokio::runtime::Runtime>,
}

impl PluginPool {
    /// A pool of `threads` worker threads named `plugin-N`.
    pub fn new(threads: usize) -> std::io::Result<PluginPool> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).thread_name("plugin").enable_all().build()?;
        Ok(PluginPool { rt: Some(rt) })
    }

    /// Runs `job` on the pool.
    pub fn spawn<F>(&self, job: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.rt {
            Some(rt) => rt.spawn(job),
            // Only after drop began; keep working on the caller's runtime.
            None => tokio::spawn(job),
        }
    }
}

impl Drop for PluginPool {
    /// Shuts the threads down without waiting (safe inside async code, where
    /// dropping a runtime would panic).
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
