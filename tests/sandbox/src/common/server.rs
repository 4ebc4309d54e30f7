//! The accept loop: plain hyper HTTP/1.1, so an injected "drop after commit"
//! can close the connection without writing any response.

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::harness::Pipeline;

/// Serves `pipeline` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, pipeline: Pipeline) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let pipeline = pipeline.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| pipeline.clone().handle(req));
            // An error here is either a client going away or an injected drop.
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
