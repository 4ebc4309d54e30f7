//! The effect journal of one job.
//!
//! Every effect a job performs through the host is numbered in the order the
//! plugin asks for it. Its outcome is recorded against `(job, seq)` with a
//! fingerprint of the request. When the job runs again (after an error or a
//! crash), each effect is first looked up: a recorded outcome is replayed
//! instead of performing the effect again, so a retry never writes a second
//! ticket. Writes record an *intent* before they are performed; an intent
//! without an outcome means the host stopped in between, and the plugin is told
//! the effect is `ambiguous` so it can check before redoing it. Only final
//! outcomes are recorded: a 5xx, 429, 408, 401 or 403, or a transport error,
//! means "not done" and the effect is performed again next time.
//!
//! A write that was sent and never answered stays ambiguous whatever the
//! plugin asks for next: when a retry takes another path (its request differs,
//! say because the body carries the attempt number) up to such a write, the
//! first write it performs at or after that position is reported ambiguous instead, so the plugin's check runs
//! and the lost write is never blindly repeated.
//!
//! The protocol is written once, in [`Journal::effect`] (and
//! [`Journal::kv_effect`] for storage writes, which are recorded atomically
//! with their journal entry): look up → replay / ambiguous / live → intent
//! (writes) → perform → record, abandon or leave pending. Every capability
//! that has an effect goes through it.

use crate::store::{JournalEntry, JournalWrite, KvWrite, Store};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// How a performed effect ended, as the journal must treat it.
pub enum Done<T, R> {
    /// A final answer: recorded (waiting for the disk when a write) and
    /// replayed to every later attempt.
    Final(T),
    /// Not done (never reached the other side, or an answer meaning "try
    /// again"): a write's intent is dropped and the next attempt performs it.
    NotDone(R),
    /// Perhaps done, answer lost: a write's intent stays, so a later attempt
    /// reports the effect ambiguous.
    Lost(R),
}

/// What [`Journal::effect`] gives back.
pub enum Effect<T, R> {
    /// The final answer, performed now or replayed from an earlier attempt.
    Final(T),
    /// What the effect (or its admission) said when it was not final.
    NotFinal(R),
    /// An earlier attempt started this write and its answer was never
    /// recorded: the plugin must check before redoing it.
    Ambiguous,
    /// The intent of a write could not be recorded, so it was not performed.
    IntentFailed(String),
}

/// What the journal says about the next effect.
enum Lookup<T> {
    /// Recorded outcome: return it, do nothing.
    Replay(T),
    /// Started and never recorded: the plugin must check.
    Ambiguous,
    /// Not recorded: perform it.
    Live,
}

/// Marker stored as the outcome of an effect reported ambiguous, so later attempts
/// report the same thing at the same place.
const AMBIGUOUS: &[u8] = b"\0ambiguous";

/// The journal of one job attempt.
pub struct Journal {
    store: Option<Arc<dyn Store>>,
    job_id: i64,
    previous: BTreeMap<u32, JournalEntry>,
    next: u32,
    /// Effects replayed in this attempt.
    pub replayed: u32,
    /// A write of an earlier attempt was sent and never answered at this
    /// position, and this attempt took another path: the first write at or
    /// after it is reported ambiguous.
    owed_ambiguity: Option<u32>,
    /// The position of the last effect in this attempt whose final answer
    /// was a refusal (an HTTP 4xx), shared with the job's runner: when the job
    /// is dead-lettered, its journal is cut there, so a replay after the
    /// operator fixed the cause asks again instead of replaying the refusal.
    /// The last one, because refusals a plugin handled (a 404 before a
    /// create) are followed by writes whose records must stay.
    last_refusal: Arc<std::sync::Mutex<Option<u32>>>,
}

/// Hash what an effect asks for.
pub fn fingerprint(kind: &str, args: &impl Serialize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(postcard::to_stdvec(args).unwrap_or_default());
    h.finalize().to_vec()
}

impl Journal {
    /// A journal that records nothing (plugin requests, benchmarks).
    pub fn disabled() -> Journal {
        Journal {
            store: None,
            job_id: 0,
            previous: BTreeMap::new(),
            next: 0,
            replayed: 0,
            owed_ambiguity: None,
            last_refusal: Arc::default(),
        }
    }

    /// The journal of `job_id`, with what earlier attempts recorded.
    pub fn new(store: Arc<dyn Store>, job_id: i64, previous: Vec<JournalEntry>) -> Journal {
        Journal {
            store: Some(store),
            job_id,
            previous: previous.into_iter().map(|e| (e.seq, e)).collect(),
            next: 0,
            replayed: 0,
            owed_ambiguity: None,
            last_refusal: Arc::default(),
        }
    }

    /// Where the last refusal of this attempt was recorded (see
    /// [`Journal::note_refusal`]); the runner keeps this handle.
    pub fn refusals(&self) -> Arc<std::sync::Mutex<Option<u32>>> {
        self.last_refusal.clone()
    }

    /// The position the next effect takes.
    pub fn position(&self) -> u32 {
        self.next
    }

    /// The effect at `seq` was answered with a refusal (recorded or replayed).
    pub fn note_refusal(&self, seq: u32) {
        let mut last = self.last_refusal.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|l| seq > l) {
            *last = Some(seq);
        }
    }

    /// Whether effects are recorded.
    fn enabled(&self) -> bool {
        self.store.is_some()
    }

    /// Runs one effect under the journal's protocol: a recorded final answer is
    /// replayed, a write started and never answered is [`Effect::Ambiguous`];
    /// otherwise a write's intent is recorded durably, `perform` runs, and its
    /// [`Done`] decides what is kept.
    pub async fn effect<T, R>(&mut self, fp: &[u8], write: bool, perform: impl Future<Output = Done<T, R>>) -> Effect<T, R>
    where
        T: Serialize + DeserializeOwned,
    {
        self.admitted_effect(fp, write, std::future::ready(Ok(())), perform).await
    }

    /// [`Journal::effect`] with an admission step (a rate-limit budget) taken
    /// only when the effect is performed live, before its intent: a replay
    /// spends no budget, and a refusal leaves nothing in the journal.
    pub async fn admitted_effect<T, R>(
        &mut self,
        fp: &[u8],
        write: bool,
        admit: impl Future<Output = Result<(), R>>,
        perform: impl Future<Output = Done<T, R>>,
    ) -> Effect<T, R>
    where
        T: Serialize + DeserializeOwned,
    {
        match self.lookup::<T>(fp).await {
            Lookup::Replay(v) => return Effect::Final(v),
            Lookup::Ambiguous => return Effect::Ambiguous,
            Lookup::Live => {}
        }
        if write && self.owed_ambiguity.is_some_and(|at| self.next >= at) {
            self.owed_ambiguity = None;
            self.mark_ambiguous(fp).await;
            self.next += 1;
            return Effect::Ambiguous;
        }
        if let Err(refused) = admit.await {
            return Effect::NotFinal(refused);
        }
        if write && let Err(e) = self.intent(fp).await {
            return Effect::IntentFailed(e);
        }
        match perform.await {
            Done::Final(v) => {
                self.record(fp, &v, write).await;
                Effect::Final(v)
            }
            Done::NotDone(r) => {
                if write {
                    self.abandon().await;
                }
                Effect::NotFinal(r)
            }
            Done::Lost(r) => {
                if write {
                    self.record_pending();
                }
                Effect::NotFinal(r)
            }
        }
    }

    /// A key-value write under the journal's protocol: replayed when recorded,
    /// else applied to `store` atomically with its journal entry (directly when
    /// the journal is disabled). Returns the compare-and-swap verdict.
    pub async fn kv_effect(&mut self, fp: &[u8], store: &Arc<dyn Store>, namespace: &str, kv: KvWrite) -> Effect<Option<bool>, String> {
        match self.lookup::<Option<bool>>(fp).await {
            Lookup::Replay(v) => return Effect::Final(v),
            Lookup::Ambiguous => return Effect::Ambiguous,
            Lookup::Live => {}
        }
        let applied = if self.enabled() {
            self.record_kv(fp, namespace, kv).await
        } else {
            store.kv_write(namespace, kv).await.map_err(|e| e.to_string())
        };
        match applied {
            Ok(verdict) => Effect::Final(verdict),
            Err(e) => Effect::NotFinal(e),
        }
    }

    /// Look the next effect up. Advances past replayed and ambiguous entries.
    async fn lookup<T: DeserializeOwned>(&mut self, fp: &[u8]) -> Lookup<T> {
        let Some(store) = self.store.clone() else {
            return Lookup::Live;
        };
        let seq = self.next;
        let Some(entry) = self.previous.get(&seq) else {
            return Lookup::Live;
        };
        if entry.fingerprint != fp {
            // The retry took another path: what was recorded from here on no longer
            // applies, except that a write sent and never answered may have happened.
            let lost = self.previous.range(seq..).find(|(_, e)| unanswered(e)).map(|(s, _)| *s);
            let unanswered = lost.is_some();
            if lost.is_some() {
                self.owed_ambiguity = lost;
            }
            tracing::warn!(job = self.job_id, seq, unanswered, "journal diverged; performing the remaining effects live");
            self.previous.retain(|s, _| *s < seq);
            if let Err(e) = store.journal_truncate(self.job_id, seq).await {
                tracing::warn!(job = self.job_id, error = %e, "could not truncate journal");
            }
            return Lookup::Live;
        }
        if entry.done && entry.result != AMBIGUOUS {
            match postcard::from_bytes::<T>(&entry.result) {
                Ok(v) => {
                    self.next += 1;
                    self.replayed += 1;
                    return Lookup::Replay(v);
                }
                Err(e) => {
                    tracing::warn!(job = self.job_id, seq, error = %e, "unreadable journal entry; performing live");
                    self.previous.retain(|s, _| *s < seq);
                    let _ = store.journal_truncate(self.job_id, seq).await;
                    return Lookup::Live;
                }
            }
        }
        // An intent with no outcome (or one already reported ambiguous): report it,
        // and remember that we did, so the next attempt says the same here.
        if !entry.done {
            self.mark_ambiguous(fp).await;
        }
        self.next += 1;
        Lookup::Ambiguous
    }

    /// Record that the current effect was reported ambiguous, so later attempts
    /// report the same thing at the same place.
    async fn mark_ambiguous(&self, fp: &[u8]) {
        let Some(store) = &self.store else { return };
        let write = JournalWrite {
            job_id: self.job_id,
            entry: JournalEntry { seq: self.next, fingerprint: fp.to_vec(), done: true, result: AMBIGUOUS.to_vec() },
            kv: None,
        };
        if let Err(e) = store.journal_write(write).await {
            tracing::warn!(job = self.job_id, error = %e, "could not record ambiguity");
        }
    }

    /// Durably record that a write is about to be performed.
    async fn intent(&mut self, fp: &[u8]) -> Result<(), String> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let write = JournalWrite {
            job_id: self.job_id,
            entry: JournalEntry { seq: self.next, fingerprint: fp.to_vec(), done: false, result: Vec::new() },
            kv: None,
        };
        store.journal_write(write).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Record the final outcome of the current effect and move on. `durable`
    /// waits for the disk (writes); reads are recorded in the background.
    async fn record<T: Serialize>(&mut self, fp: &[u8], outcome: &T, durable: bool) {
        let seq = self.next;
        self.next += 1;
        let Some(store) = &self.store else { return };
        let write = JournalWrite {
            job_id: self.job_id,
            entry: JournalEntry { seq, fingerprint: fp.to_vec(), done: true, result: postcard::to_stdvec(outcome).unwrap_or_default() },
            kv: None,
        };
        if durable {
            if let Err(e) = store.journal_write(write).await {
                tracing::warn!(job = self.job_id, error = %e, "could not record effect; a retry will report it ambiguous");
            }
        } else {
            store.journal_write_lazy(write);
        }
    }

    /// The current effect's intent stays unanswered (the request was sent and its
    /// answer lost): move on, leaving it for a later attempt to report ambiguous.
    fn record_pending(&mut self) {
        self.next += 1;
    }

    /// The current effect was not final (it will be performed again): drop its intent.
    async fn abandon(&mut self) {
        let Some(store) = &self.store else { return };
        if let Err(e) = store.journal_truncate(self.job_id, self.next).await {
            tracing::warn!(job = self.job_id, error = %e, "could not drop intent");
        }
    }

    /// Record a key-value write atomically with its journal entry (the entry's
    /// outcome is the CAS verdict). Returns the verdict for compare-and-swap.
    async fn record_kv(&mut self, fp: &[u8], namespace: &str, kv: KvWrite) -> Result<Option<bool>, String> {
        let Some(store) = &self.store else {
            return Err("journal disabled".into());
        };
        let write = JournalWrite {
            job_id: self.job_id,
            entry: JournalEntry { seq: self.next, fingerprint: fp.to_vec(), done: true, result: Vec::new() },
            kv: Some((namespace.to_string(), kv)),
        };
        let verdict = store.journal_write(write).await.map_err(|e| e.to_string())?;
        self.next += 1;
        Ok(verdict)
    }
}

/// A write sent (or reported ambiguous) and never answered.
fn unanswered(entry: &JournalEntry) -> bool {
    !entry.done || entry.result == AMBIGUOUS
}

/// Where a job's journal first holds a write that may or may not have
/// happened (what stops its replay), if anywhere.
pub fn first_unanswered(entries: &[JournalEntry]) -> Option<u32> {
    entries.iter().filter(|e| unanswered(e)).map(|e| e.seq).min()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::{IngestOutcome, NewEvent, NewJob, SqliteStore};
    use std::time::Duration;

    /// A store holding one job, and that job's id.
    async fn one_job() -> (Arc<dyn Store>, i64, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("store.db"), Duration::ZERO).unwrap());
        let event = NewEvent {
            account: "acme".into(),
            event_name: "call.created".into(),
            body: "{}".into(),
            body_hash: [7; 32],
            received_at_ms: 1,
            not_dispatched: None,
            origin: Default::default(),
            occurrence: None,
        };
        let job = NewJob { integration: "notes".into(), ordering_key: "k".into() };
        let IngestOutcome::Accepted { jobs, .. } = store.ingest(event, vec![job], 1_000).await.unwrap() else { panic!("not accepted") };
        (store, jobs[0].id, dir)
    }

    /// One attempt: performs `writes` (fingerprints) in order, each answered or
    /// lost as `answer` says, and returns what the journal said for each.
    async fn attempt(store: &Arc<dyn Store>, job: i64, writes: &[(&str, bool)]) -> Vec<&'static str> {
        let mut journal = Journal::new(store.clone(), job, store.journal(job).await.unwrap());
        let mut said = Vec::new();
        for (body, answer) in writes {
            let fp = fingerprint("http", body);
            let done = if *answer { Done::Final(1u8) } else { Done::Lost(()) };
            said.push(match journal.effect(&fp, true, async { done }).await {
                Effect::Final(_) => "final",
                Effect::NotFinal(_) => "not final",
                Effect::Ambiguous => "ambiguous",
                Effect::IntentFailed(_) => "intent failed",
            });
        }
        said
    }

    #[tokio::test]
    async fn a_lost_answer_is_ambiguous_on_retry_even_when_the_request_changed() {
        let (store, job, _dir) = one_job().await;
        assert_eq!(attempt(&store, job, &[("note, attempt 1", false)]).await, ["not final"]);
        // The retry's body carries its attempt number: another fingerprint, still ambiguous.
        assert_eq!(attempt(&store, job, &[("note, attempt 2", true)]).await, ["ambiguous"]);
        // And the attempt after that says the same at the same place.
        assert_eq!(attempt(&store, job, &[("note, attempt 3", true)]).await, ["ambiguous"]);
    }

    #[tokio::test]
    async fn a_retry_that_takes_another_path_owes_its_next_write_a_check() {
        let (store, job, _dir) = one_job().await;
        assert_eq!(attempt(&store, job, &[("create contact", true), ("create note", false)]).await, ["final", "not final"]);
        // The first write diverges (the contact is created differently now): live,
        // but the unanswered note beyond it makes the next write ambiguous.
        assert_eq!(attempt(&store, job, &[("create contact v2", true), ("create note", true)]).await, ["final", "ambiguous"]);
    }

    #[tokio::test]
    async fn answered_writes_replay_and_a_refused_write_is_performed_again() {
        let (store, job, _dir) = one_job().await;
        assert_eq!(attempt(&store, job, &[("a", true)]).await, ["final"]);
        assert_eq!(attempt(&store, job, &[("a", true), ("b", true)]).await, ["final", "final"]);
        let mut journal = Journal::new(store.clone(), job, store.journal(job).await.unwrap());
        assert!(matches!(journal.effect(&fingerprint("http", &"a"), true, async { Done::<u8, ()>::Final(9) }).await, Effect::Final(1)));
        assert_eq!(journal.replayed, 1, "the recorded answer is replayed, not performed again");
        // A write answered "try again" leaves nothing behind: the next attempt performs it live.
        let (store, job, _dir) = one_job().await;
        let mut journal = Journal::new(store.clone(), job, vec![]);
        assert!(matches!(
            journal.effect(&fingerprint("http", &"c"), true, async { Done::<u8, ()>::NotDone(()) }).await,
            Effect::NotFinal(())
        ));
        assert_eq!(attempt(&store, job, &[("c, changed", true)]).await, ["final"]);
    }
}
