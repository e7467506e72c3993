//! A plain RESP2 connection for warmup's bulk writes to a single server over TCP or a Unix
//! socket: SETs are encoded straight into one buffer per batch and their replies are only
//! counted, which keeps the client's cost well under the server's (a redis-rs pipeline builds
//! and parses a value per command). TLS stays on redis-rs, so certificate checking lives in
//! one place.

use crate::sources::redis::conn::{ConnectError, Endpoint};
use redis::{ConnectionAddr, ErrorKind, RedisError};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct RespConn {
    io: BufReader<Box<dyn Io>>,
    timeout: Duration,
    /// Replies still owed, one count per batch sent, oldest first.
    owed: VecDeque<usize>,
    buf: Vec<u8>,
    line: Vec<u8>,
}

/// What the server answered to one batch.
pub struct BatchReply {
    pub ok: usize,
    /// The first error reply, if any command of the batch was refused.
    pub error: Option<RedisError>,
}

impl RespConn {
    /// `None` when the endpoint needs TLS: that stays on redis-rs.
    pub async fn connect(
        ep: &Endpoint,
        timeout: Duration,
    ) -> Option<Result<RespConn, ConnectError>> {
        let info = ep.info();
        let io: std::io::Result<Box<dyn Io>> = match info.addr() {
            ConnectionAddr::Tcp(host, port) => {
                let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
                match tokio::time::timeout(timeout, connect).await {
                    Ok(Ok(s)) => s.set_nodelay(true).map(|()| Box::new(s) as Box<dyn Io>),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
                }
            }
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => tokio::net::UnixStream::connect(path)
                .await
                .map(|s| Box::new(s) as Box<dyn Io>),
            _ => return None,
        };
        let io = match io {
            Ok(io) => io,
            Err(e) => return Some(Err(ep.err(e.into()))),
        };
        let mut conn = RespConn::over(io, timeout);
        Some(conn.handshake(ep).await.map(|()| conn))
    }

    fn over(io: Box<dyn Io>, timeout: Duration) -> RespConn {
        RespConn {
            io: BufReader::with_capacity(64 * 1024, io),
            timeout,
            owed: VecDeque::new(),
            buf: Vec::new(),
            line: Vec::new(),
        }
    }

    async fn handshake(&mut self, ep: &Endpoint) -> Result<(), ConnectError> {
        let settings = ep.info().redis_settings();
        let auth: Option<Vec<&[u8]>> = match (settings.username(), settings.password()) {
            (Some(user), Some(pass)) => Some(vec![b"AUTH", user.as_bytes(), pass.as_bytes()]),
            (None, Some(pass)) => Some(vec![b"AUTH", pass.as_bytes()]),
            _ => None,
        };
        let db = settings.db().to_string();
        let select = (settings.db() != 0).then(|| vec![&b"SELECT"[..], db.as_bytes()]);
        for (cmd, kind) in [
            (auth, ErrorKind::AuthenticationFailed),
            (select, ErrorKind::InvalidClientConfig),
        ] {
            let Some(args) = cmd else { continue };
            self.buf.clear();
            push_command(&mut self.buf, &args);
            let reply = async {
                self.send_buf(1).await?;
                self.read_batch().await
            };
            let reply = reply.await.map_err(|e| ep.err(e))?;
            if let Some(e) = reply.error {
                let detail = e.detail().unwrap_or_default().to_string();
                let what = if kind == ErrorKind::AuthenticationFailed {
                    "AUTH refused"
                } else {
                    "SELECT refused"
                };
                return Err(ep.err((kind, what, detail).into()));
            }
        }
        Ok(())
    }

    /// Sends one batch of `SET key value EX ttl`; its replies are read by [`Self::read_batch`].
    pub async fn send_sets<'a>(
        &mut self,
        sets: impl Iterator<Item = (&'a str, &'a str, u64)>,
    ) -> redis::RedisResult<()> {
        self.buf.clear();
        let mut n = 0;
        for (key, value, ttl_s) in sets {
            push_set(&mut self.buf, key, value, ttl_s);
            n += 1;
        }
        self.send_buf(n).await
    }

    /// Sends `count` commands already encoded (by [`push_set`]) in `buf`.
    pub async fn send_encoded(&mut self, buf: &[u8], count: usize) -> redis::RedisResult<()> {
        timed(self.timeout, self.io.get_mut().write_all(buf)).await?;
        self.owed.push_back(count);
        Ok(())
    }

    async fn send_buf(&mut self, replies: usize) -> redis::RedisResult<()> {
        let write = self.io.get_mut().write_all(&self.buf);
        timed(self.timeout, write).await?;
        self.owed.push_back(replies);
        Ok(())
    }

    pub fn in_flight(&self) -> usize {
        self.owed.len()
    }

    /// The replies to the oldest batch sent, within one timeout for the whole batch. Error
    /// replies are counted, not fatal here: the server carries on with the rest of a
    /// pipeline, so the caller learns how many landed.
    pub async fn read_batch(&mut self) -> redis::RedisResult<BatchReply> {
        let n = self.owed.pop_front().unwrap_or(0);
        match tokio::time::timeout(self.timeout, self.read_replies(n)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
        }
    }

    /// Counts `n` reply lines straight from the read buffer; only a line split across two
    /// reads is copied out first.
    async fn read_replies(&mut self, n: usize) -> redis::RedisResult<BatchReply> {
        let mut reply = BatchReply { ok: 0, error: None };
        let mut left = n;
        while left > 0 {
            let buf = self.io.fill_buf().await?;
            if buf.is_empty() {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            let mut used = 0;
            while left > 0 {
                let Some(end) = buf[used..].iter().position(|&b| b == b'\n') else {
                    break;
                };
                reply.count(&buf[used..used + end])?;
                used += end + 1;
                left -= 1;
            }
            if used > 0 {
                self.io.consume(used);
                continue;
            }
            self.line.clear();
            if self.io.read_until(b'\n', &mut self.line).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            reply.count(&self.line)?;
            left -= 1;
        }
        Ok(reply)
    }
}

impl BatchReply {
    /// One reply line (its `\r\n` optional): a status counts as landed, the first error is
    /// kept.
    fn count(&mut self, line: &[u8]) -> redis::RedisResult<()> {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match text.first() {
            Some(b'+') => self.ok += 1,
            Some(b'-') if self.error.is_none() => {
                let msg = String::from_utf8_lossy(&text[1..]).into_owned();
                self.error = Some((ErrorKind::Extension, "the server refused", msg).into());
            }
            Some(b'-') => {}
            // SET and the handshake only ever answer with a status or an error line.
            _ => {
                let got = String::from_utf8_lossy(text).into_owned();
                return Err((ErrorKind::Parse, "unexpected reply", got).into());
            }
        }
        Ok(())
    }
}

async fn timed<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = std::io::Result<T>>,
) -> redis::RedisResult<T> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(RedisError::from),
        Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
    }
}

/// Appends `SET key value EX ttl_s` to `buf` as RESP.
pub fn push_set(buf: &mut Vec<u8>, key: &str, value: &str, ttl_s: u64) {
    let mut ttl = itoa_buf();
    let ttl = fmt_u64(&mut ttl, ttl_s);
    push_command(buf, &[b"SET", key.as_bytes(), value.as_bytes(), b"EX", ttl]);
}

fn push_command(buf: &mut Vec<u8>, args: &[&[u8]]) {
    let mut num = itoa_buf();
    buf.push(b'*');
    buf.extend_from_slice(fmt_u64(&mut num, args.len() as u64));
    buf.extend_from_slice(b"\r\n");
    for a in args {
        buf.push(b'$');
        buf.extend_from_slice(fmt_u64(&mut num, a.len() as u64));
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// Decimal digits of `n` in `buf`, without going through the formatter.
fn fmt_u64(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_arrays_of_bulk_strings() {
        let mut buf = Vec::new();
        push_command(&mut buf, &[b"SET", "k:é".as_bytes(), b"", b"EX", b"86400"]);
        assert_eq!(
            buf,
            "*5\r\n$3\r\nSET\r\n$4\r\nk:é\r\n$0\r\n\r\n$2\r\nEX\r\n$5\r\n86400\r\n".as_bytes()
        );
        let mut n = itoa_buf();
        assert_eq!(fmt_u64(&mut n, 0), b"0");
        assert_eq!(fmt_u64(&mut n, u64::MAX), u64::MAX.to_string().as_bytes());
    }

    /// Replies arrive in pieces of every size, lines split across reads: each batch still
    /// gets exactly its own replies, and the first error of a batch is kept.
    #[tokio::test]
    async fn replies_are_counted_per_batch_whatever_the_reads() {
        let (client, mut server) = tokio::io::duplex(7);
        let mut conn = RespConn::over(Box::new(client), Duration::from_secs(5));
        let sizes = [1000, 1, 2500, 3];
        let mut replies = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            for j in 0..n {
                let refused = i == 2 && (j == 7 || j == 2000);
                replies.extend_from_slice(
                    if refused {
                        format!("-OOM refused {j}\r\n").into_bytes()
                    } else {
                        b"+OK\r\n".to_vec()
                    }
                    .as_slice(),
                );
            }
            conn.owed.push_back(n);
        }
        let writer = tokio::spawn(async move {
            for piece in replies.chunks(13) {
                server.write_all(piece).await.unwrap();
            }
        });
        let mut got = Vec::new();
        for _ in sizes {
            let r = conn.read_batch().await.unwrap();
            got.push((r.ok, r.error.and_then(|e| e.detail().map(str::to_string))));
        }
        writer.await.unwrap();
        assert_eq!(
            got,
            [
                (1000, None),
                (1, None),
                (2498, Some("OOM refused 7".to_string())),
                (3, None)
            ]
        );
    }
}
