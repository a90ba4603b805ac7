//! A component's stdout and stderr: each instance's streams pass only whole lines on to the
//! host's stderr, in one write under the process-wide stderr lock, so a guest line written in
//! pieces (`eprintln!` writes piece by piece) can neither split nor be split by a host log line.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line (without its newline) held back waiting for its end; a longer one is passed
/// on in pieces of this size, each ended with a newline. Bounds what a guest can make the host
/// buffer.
const MAX_LINE: usize = 64 * 1024;

/// What one `write` may carry (`check-write`'s answer), the size wasmtime-wasi's own streams use.
const WRITE_BUDGET: usize = 64 * 1024;

/// One instance's stdout or stderr (each gets its own): WASI asks it for a stream every time the
/// guest calls `get-stdout`/`get-stderr`, and all of them share one line buffer. The buffered
/// rest of a line goes out, ended with a newline, when the instance (its `Store`) is dropped.
pub struct GuestOutput<W: Write + Send + 'static = HostStderr>(Arc<Mutex<LineWriter<W>>>);

impl GuestOutput {
    pub fn to_host_stderr() -> Self {
        GuestOutput::to(HostStderr)
    }
}

impl<W: Write + Send + 'static> GuestOutput<W> {
    fn to(sink: W) -> Self {
        GuestOutput(Arc::new(Mutex::new(LineWriter::new(sink))))
    }

    fn write_bytes(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(bytes);
    }
}

impl<W: Write + Send + 'static> Clone for GuestOutput<W> {
    fn clone(&self) -> Self {
        GuestOutput(self.0.clone())
    }
}

impl<W: Write + Send + 'static> IsTerminal for GuestOutput<W> {
    /// What the guest saw before line buffering: whether the host's stderr is a terminal.
    fn is_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stderr())
    }
}

impl<W: Write + Send + 'static> StdoutStream for GuestOutput<W> {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Always ready: a write only appends to the buffer, plus at most one whole-lines write to the
/// host's stderr (as the crate's own stdio streams do, synchronously).
#[wasmtime_wasi::async_trait]
impl<W: Write + Send + 'static> Pollable for GuestOutput<W> {
    async fn ready(&mut self) {}
}

impl<W: Write + Send + 'static> OutputStream for GuestOutput<W> {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }

    /// Does not push out a partial line: `blocking-write-and-flush`, which `std::io::Write`
    /// on wasip2 uses for every write, flushes after each piece of a line.
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

impl<W: Write + Send + 'static> AsyncWrite for GuestOutput<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(WRITE_BUDGET);
        self.write_bytes(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The host's stderr as the host's own log writers use it: each `write_all` holds the process-wide
/// stderr lock from first byte to last. tracing's fmt layer (`access_log::init_tracing`, writer
/// `std::io::stderr`) writes an event in one `Stderr::write_all`, which takes the same lock, as
/// do the access log and `eprintln!`.
pub struct HostStderr;

impl Write for HostStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        std::io::stderr().lock().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().lock().flush()
    }
}

/// Splits a byte stream into whole lines for `sink`, byte for byte, except that a line longer
/// than [`MAX_LINE`] and the unterminated rest at drop are each ended with a newline.
struct LineWriter<W: Write> {
    /// The start of a line whose newline has not arrived yet; never more than `MAX_LINE` bytes.
    pending: Vec<u8>,
    sink: W,
}

impl<W: Write> LineWriter<W> {
    fn new(sink: W) -> Self {
        LineWriter {
            pending: Vec::new(),
            sink,
        }
    }

    /// Buffers `bytes` and passes every line they complete to the sink in one `write_all`.
    fn write(&mut self, mut bytes: &[u8]) {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            let room = MAX_LINE - self.pending.len();
            // A newline right after `room` bytes still ends a line of exactly MAX_LINE bytes.
            let window = &bytes[..bytes.len().min(room + 1)];
            if let Some(end) = window.iter().position(|&b| b == b'\n') {
                lines.append(&mut self.pending);
                lines.extend_from_slice(&window[..=end]);
                bytes = &bytes[end + 1..];
            } else if window.len() > room {
                lines.append(&mut self.pending);
                lines.extend_from_slice(&window[..room]);
                lines.push(b'\n');
                bytes = &bytes[room..];
            } else {
                self.pending.extend_from_slice(window);
                bytes = &[];
            }
        }
        self.emit(&lines);
    }

    fn emit(&mut self, lines: &[u8]) {
        if !lines.is_empty() {
            // The host's stderr is its log: when writing to it fails there is nowhere to report
            // that, and the guest must not fail for it (the access log ignores it the same way).
            let _ = self.sink.write_all(lines);
        }
    }
}

impl<W: Write> Drop for LineWriter<W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let mut rest = std::mem::take(&mut self.pending);
            rest.push(b'\n');
            self.emit(&rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records each `write_all` it receives as one entry.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Writes {
        fn taken(&self) -> Vec<Vec<u8>> {
            self.0.lock().unwrap().clone()
        }
    }

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn writer() -> (LineWriter<Writes>, Writes) {
        let writes = Writes::default();
        (LineWriter::new(writes.clone()), writes)
    }

    #[test]
    fn pieces_of_a_line_are_passed_on_once_the_line_is_whole() {
        let (mut w, writes) = writer();
        for piece in ["pro", "be: ", "a line", " in pieces"] {
            w.write(piece.as_bytes());
            assert!(writes.taken().is_empty(), "wrote before the newline");
        }
        w.write(b"\n");
        assert_eq!(writes.taken(), vec![b"probe: a line in pieces\n".to_vec()]);
    }

    #[test]
    fn several_lines_in_one_write_go_out_whole_and_the_rest_waits() {
        let (mut w, writes) = writer();
        w.write(b"one\ntwo\n\nthr");
        assert_eq!(writes.taken(), vec![b"one\ntwo\n\n".to_vec()]);
        w.write(b"ee\nfo");
        assert_eq!(writes.taken()[1], b"three\n");
        assert_eq!(writes.taken().len(), 2);
    }

    #[test]
    fn a_trailing_partial_line_is_flushed_with_a_newline_on_drop() {
        let (mut w, writes) = writer();
        w.write(b"done\nno newline");
        drop(w);
        assert_eq!(
            writes.taken(),
            vec![b"done\n".to_vec(), b"no newline\n".to_vec()]
        );

        let (mut w, writes) = writer();
        w.write(b"whole\n");
        drop(w);
        assert_eq!(
            writes.taken(),
            vec![b"whole\n".to_vec()],
            "nothing to flush"
        );
    }

    #[test]
    fn output_is_byte_exact() {
        let (mut w, writes) = writer();
        let bytes = b"\xff\xfe not utf-8 \x1b[31m red \r\n\tcrlf\n";
        for b in bytes {
            w.write(std::slice::from_ref(b));
        }
        assert_eq!(writes.taken().concat(), bytes);
    }

    #[test]
    fn a_line_longer_than_the_cap_goes_out_in_capped_lines() {
        let (mut w, writes) = writer();
        // In small writes, as a guest would: the buffer never holds more than MAX_LINE bytes.
        let long = vec![b'x'; 2 * MAX_LINE + 10];
        for chunk in long.chunks(4096) {
            w.write(chunk);
            assert!(w.pending.len() <= MAX_LINE);
        }
        let mut capped = vec![b'x'; MAX_LINE];
        capped.push(b'\n');
        assert_eq!(writes.taken(), vec![capped.clone(), capped.clone()]);
        assert_eq!(w.pending.len(), 10);
        w.write(b"\n");
        assert_eq!(writes.taken()[2], b"xxxxxxxxxx\n");

        // In one write, too.
        let (mut w, writes) = writer();
        w.write(&[b'x'; MAX_LINE + 1]);
        assert_eq!(writes.taken(), vec![capped.clone()]);
        assert_eq!(w.pending, b"x");
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_one_line() {
        let (mut w, writes) = writer();
        let mut line = vec![b'y'; MAX_LINE];
        line.push(b'\n');
        w.write(&line[..MAX_LINE]);
        assert!(writes.taken().is_empty());
        w.write(b"\n");
        assert_eq!(writes.taken(), vec![line.clone()]);

        let (mut w, writes) = writer();
        w.write(&line);
        assert_eq!(writes.taken(), vec![line], "no extra empty line");
    }

    #[test]
    fn every_stream_of_one_output_shares_its_line_buffer() {
        let writes = Writes::default();
        let output = GuestOutput::to(writes.clone());
        // A guest may call get-stderr again for each piece of a line.
        output
            .p2_stream()
            .write(Bytes::from_static(b"first "))
            .unwrap();
        let mut second = output.p2_stream();
        second.write(Bytes::from_static(b"half\n")).unwrap();
        second.flush().unwrap();
        assert_eq!(writes.taken(), vec![b"first half\n".to_vec()]);
        second.write(Bytes::from_static(b"unfinished")).unwrap();
        second.flush().unwrap();
        assert_eq!(writes.taken().len(), 1, "flush keeps a partial line");
        drop(second);
        drop(output);
        assert_eq!(
            writes.taken()[1],
            b"unfinished\n",
            "flushed at the last drop"
        );
    }
}
