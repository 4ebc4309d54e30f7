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
