//! Decoding a watch response: one JSON document per line, decoded as the bytes
//! arrive.
//!
//! Lines that arrive whole in one chunk are decoded straight from the chunk; only a
//! line split across chunks is copied, into one buffer reused for the whole watch.
//! So an event costs the decoding of its object and nothing more.

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::core::{Error, WatchEvent};
use crate::transport::transport_error;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct Lines {
    body: ByteStream,
    /// The chunk being read and how far.
    chunk: Bytes,
    pos: usize,
    /// The start of a line whose end has not arrived yet.
    partial: BytesMut,
    done: bool,
}

enum Line {
    /// A whole line at `chunk[start..end]`.
    InChunk(usize, usize),
    /// A whole line in `partial`.
    Partial,
}

impl Lines {
    /// The next non-empty line, or `None` at the end of the body.
    async fn next(&mut self) -> Option<Result<Line, Error>> {
        loop {
            let rest = &self.chunk[self.pos..];
            if let Some(i) = rest.iter().position(|&b| b == b'\n') {
                let (start, end) = (self.pos, self.pos + i);
                self.pos = end + 1;
                if self.partial.is_empty() {
                    if self.chunk[start..end].iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(Ok(Line::InChunk(start, end)));
                }
                self.partial.extend_from_slice(&self.chunk[start..end]);
                return Some(Ok(Line::Partial));
            }
            self.partial.extend_from_slice(rest);
            self.pos = self.chunk.len();
            if self.done {
                if self.partial.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                // The body ended without a final newline.
                return Some(Ok(Line::Partial));
            }
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.partial.clear();
                    return Some(Err(transport_error(e)));
                }
                None => self.done = true,
            }
        }
    }
}

/// The events of a watch response, in order. The stream ends when the server ends
/// the response (its `timeoutSeconds`, or after an `ERROR` event) or the connection
/// breaks (an `Err` item, then the end).
pub(crate) fn events<K: DeserializeOwned + Send + 'static>(
    resp: reqwest::Response,
    without_managed_fields: bool,
) -> impl Stream<Item = Result<WatchEvent<K>, Error>> + Send + 'static {
    fn decode<K: DeserializeOwned>(line: &[u8], strip: bool) -> Result<WatchEvent<K>, Error> {
        let stripped = if strip {
            super::strip::without_managed_fields(line)
        } else {
            None
        };
        super::decode_json(stripped.as_deref().unwrap_or(line))
    }
    let lines = Lines {
        body: Box::pin(resp.bytes_stream()),
        chunk: Bytes::new(),
        pos: 0,
        partial: BytesMut::new(),
        done: false,
    };
    futures::stream::unfold(lines, move |mut lines| async move {
        let line = lines.next().await?;
        let event = line.and_then(|line| match line {
            Line::InChunk(start, end) => decode(&lines.chunk[start..end], without_managed_fields),
            Line::Partial => {
                let r = decode(&lines.partial, without_managed_fields);
                lines.partial.clear();
                r
            }
        });
        Some((event, lines))
    })
}
