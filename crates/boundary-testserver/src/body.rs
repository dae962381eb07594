//! A response body played from a script: data, pauses, and a broken connection, so that a
//! test can stall a response mid-body or cut it off.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// One step of a scripted body.
#[derive(Debug)]
pub enum Part {
    Data(Bytes),
    Pause(Duration),
    /// The body fails here: hyper drops the connection mid-response.
    Break,
}

#[derive(Debug)]
pub struct ScriptedBody {
    parts: VecDeque<Part>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    exact_len: Option<u64>,
}

impl ScriptedBody {
    pub fn new(parts: Vec<Part>) -> Self {
        Self {
            parts: parts.into(),
            pause: None,
            exact_len: None,
        }
    }

    /// A complete body with a `Content-Length`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            exact_len: Some(bytes.len() as u64),
            parts: VecDeque::from([Part::Data(bytes)]),
            pause: None,
        }
    }
}

impl Body for ScriptedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        loop {
            if let Some(pause) = self.pause.as_mut() {
                match pause.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => self.pause = None,
                }
            }
            match self.parts.pop_front() {
                None => return Poll::Ready(None),
                Some(Part::Data(bytes)) => return Poll::Ready(Some(Ok(Frame::data(bytes)))),
                Some(Part::Pause(duration)) => {
                    self.pause = Some(Box::pin(tokio::time::sleep(duration)));
                }
                Some(Part::Break) => {
                    return Poll::Ready(Some(Err(std::io::Error::other(
                        "connection dropped by the test server",
                    ))));
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}
