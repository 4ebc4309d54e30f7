//! Wake-ups between hosts: the writer sends `NOTIFY switchboard_jobs` with
//! every committed batch that made work claimable (one per batch, not per job),
//! and every host `LISTEN`s on a connection of its own. A lost connection is
//! made again after a second; the claim loop also polls, so a notification
//! missed meanwhile delays work by at most the poll interval.

use super::{describe, redacted, tls};
use crate::store::{StoreError, StoreResult};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;

/// The channel every host listens on.
pub(super) const CHANNEL: &str = "switchboard_jobs";

/// Listen for as long as the process runs, waking `wake` on each notification.
pub(super) fn spawn(config: tokio_postgres::Config, wake: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&config, &wake).await {
                tracing::warn!(error = %e, "store: LISTEN connection lost; polling until it is back");
            }
            // Whatever was notified while the connection was down is picked up now.
            wake.notify_one();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(config: &tokio_postgres::Config, wake: &Notify) -> StoreResult<()> {
    let (client, mut connection) = config
        .connect(tls()?)
        .await
        .map_err(|e| StoreError(format!("cannot connect to PostgreSQL at {}: {}", redacted(config), describe(&e))))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(StoreError(format!("LISTEN connection: {}", describe(&e)))),
            }
        }
        Ok(())
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(|e| StoreError(format!("LISTEN: {}", describe(&e))))?;
    while rx.recv().await.is_some() {
        wake.notify_one();
    }
    drop(client);
    driver.await.map_err(|e| StoreError(format!("LISTEN task: {e}")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::{TestDatabase, connect_one, parse_url};
    use super::*;

    /// The backend pid of this database's listening connection, once it listens.
    async fn listener(admin: &tokio_postgres::Client, not: Option<i32>) -> i32 {
        for _ in 0..100 {
            let row = admin
                .query_opt(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1 AND pid <> pg_backend_pid() LIMIT 1",
                    &[&format!("LISTEN {CHANNEL}")],
                )
                .await
                .unwrap();
            if let Some(pid) = row.map(|r| r.get::<_, i32>(0)).filter(|pid| Some(*pid) != not) {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no listening connection");
    }

    async fn woken(wake: &Notify) -> bool {
        tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.is_ok()
    }

    /// A NOTIFY wakes the claim loop; when the server drops the listening
    /// connection, it is made again and the next NOTIFY wakes it too.
    #[tokio::test]
    async fn a_dropped_listening_connection_is_made_again_and_wakes_on_the_next_notify() {
        let db = TestDatabase::create().await.unwrap();
        let config = parse_url(&db.url).unwrap();
        let admin = connect_one(&config).await.unwrap();
        let wake = Arc::new(Notify::new());
        spawn(config, wake.clone());
        let first = listener(&admin, None).await;
        admin.batch_execute(&format!("NOTIFY {CHANNEL}")).await.unwrap();
        assert!(woken(&wake).await, "a NOTIFY wakes the listener");

        admin.execute("SELECT pg_terminate_backend($1)", &[&first]).await.unwrap();
        let second = listener(&admin, Some(first)).await;
        // The reconnect itself wakes the loop once (work notified meanwhile); take that.
        let _ = tokio::time::timeout(Duration::from_millis(200), wake.notified()).await;
        admin.batch_execute(&format!("NOTIFY {CHANNEL}")).await.unwrap();
        assert!(woken(&wake).await, "the NOTIFY after the reconnect (pid {first} -> {second}) wakes the listener");
    }
}
