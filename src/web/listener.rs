//! A TLS listener for axum: TCP connections are accepted at once and their handshakes
//! run concurrently (each within [`HANDSHAKE_TIMEOUT`]), so a slow or silent client
//! holds up no other. Each handshake takes the web configuration as it stands (a
//! renewed certificate is used from the next connection on). A client speaking plain
//! HTTP gets Go's answer, 400 "Client sent an HTTP request to an HTTPS server.".

use super::Web;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client has to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What Go's HTTPS server answers to plain HTTP.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The first byte of a TLS handshake record.
const HANDSHAKE_RECORD: u8 = 0x16;

pub struct TlsListener {
    tcp: TcpListener,
    web: Arc<Web>,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, web: Arc<Web>) -> TlsListener {
        TlsListener {
            tcp,
            web,
            handshakes: JoinSet::new(),
        }
    }

    fn start_handshake(&mut self, tcp: TcpStream, addr: SocketAddr) {
        let config = self.web.state.current().and_then(|l| {
            l.tls
                .clone()
                .ok_or_else(|| "the web configuration has no tls_server_config".to_owned())
        });
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(%addr, error = %e, "Connection refused: no TLS configuration.");
                return;
            }
        };
        let acceptor = TlsAcceptor::from(config);
        self.handshakes.spawn(async move {
            let done = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(acceptor, tcp)).await;
            match done {
                Ok(Ok(stream)) => Some((stream, addr)),
                Ok(Err(e)) => {
                    tracing::debug!(%addr, error = %e, "TLS handshake failed.");
                    None
                }
                Err(_) => None,
            }
        });
    }
}

/// The handshake, or Go's 400 to a client that speaks plain HTTP.
async fn handshake(
    acceptor: TlsAcceptor,
    mut tcp: TcpStream,
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    if tcp.peek(&mut first).await? == 1 && first[0] != HANDSHAKE_RECORD {
        tcp.write_all(PLAIN_HTTP_ANSWER).await?;
        tcp.shutdown().await?;
        return Err(std::io::Error::other("plain HTTP on the TLS port"));
    }
    acceptor.accept(tcp).await
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, addr)) => self.start_handshake(tcp, addr),
                    Err(e) => {
                        // as axum's own listener: out of descriptors, say; try again soon
                        tracing::warn!(error = %e, "Accepting a connection failed.");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(ready)) = done {
                        return ready;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
