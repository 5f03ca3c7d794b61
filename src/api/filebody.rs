//! A media file as an upload's request body: read from disk as it is sent, so memory
//! stays flat whatever the file's size, with its exact length announced.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

/// A file's bytes as a request body, read from disk as it is sent (memory stays flat
/// whatever the file's size), with its length announced.
pub(super) struct FileBody {
    file: tokio::fs::File,
    left: u64,
    buf: Vec<u8>,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        use tokio::io::AsyncRead as _;
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let want = usize::try_from(this.left.min(64 * 1024)).unwrap_or(64 * 1024);
        this.buf.resize(want, 0);
        let mut rb = tokio::io::ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                Poll::Ready(Some(Err(std::io::Error::other("the file got shorter while it was sent"))))
            }
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                this.left -= n as u64;
                Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::copy_from_slice(&this.buf[..n])))))
            }
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }
}

impl FileBody {
    /// The next `len` bytes of `file`, sent in frames of up to 64 KiB.
    pub(super) fn new(file: tokio::fs::File, len: u64) -> Self {
        FileBody { file, left: len, buf: Vec::new() }
    }
}
