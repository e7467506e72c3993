//! Reading HTTP answers with a size cap, for every backend and action that speaks HTTP: a
//! misdirected URL (a file server, a log endpoint) or a runaway query must cost an error
//! message, not the console's memory.

/// An answer read up to a cap.
#[derive(Debug)]
pub struct Capped {
    /// The body, or its first `cap` bytes when it is longer (nothing when its declared
    /// length already says so).
    pub body: Vec<u8>,
    /// The body is longer than the cap; reading stopped there.
    pub over: bool,
}

/// Reads `response`'s body, stopping as soon as it passes `cap` bytes.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Capped, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(Capped {
            body: Vec::new(),
            over: true,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            let room = cap - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok(Capped { body, over: true });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Capped { body, over: false })
}

/// `64 MiB`, `512 KiB`, `100 bytes`: a cap as an operator reads it.
pub fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_read_as_operators_say_them() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(512 << 10), "512 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
