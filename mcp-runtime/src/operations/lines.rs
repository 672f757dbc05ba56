//! Where log lines go: a buffer in memory, written out by a thread of its
//! own every few milliseconds, or as soon as enough is waiting.
//!
//! A request appends its line under a lock and goes on: no system call and
//! no thread woken per line. A writer that woke a thread per line (as a
//! channel to a waiting thread does) spent more on that wake-up than on the
//! line itself, and an audit line is written for every call. Nothing is
//! dropped: when the buffer is full (the terminal or pipe is slower than
//! the lines), a request waits until it has been written.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait before it is written.
const INTERVAL: Duration = Duration::from_millis(20);
/// Written at once when this much waits.
const SOON: usize = 64 * 1024;
/// A request waits when this much waits.
const FULL: usize = 4 * 1024 * 1024;

struct Buffer {
    pending: Vec<u8>,
    closed: bool,
}

struct Shared {
    buffer: Mutex<Buffer>,
    /// Wakes the writer (something to write soon, or closing).
    to_writer: Condvar,
    /// Wakes requests waiting for room.
    to_requests: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A panic while holding the lock leaves the bytes as they were.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writers' side: cheap to clone, one per event.
#[derive(Clone)]
pub(crate) struct Lines(Arc<Shared>);

/// Writes what is left and stops the writer's thread when dropped.
pub(crate) struct LinesGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the thread writing to `out`.
pub(crate) fn start(mut out: impl Write + Send + 'static) -> std::io::Result<(Lines, LinesGuard)> {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Buffer {
            pending: Vec::with_capacity(SOON),
            closed: false,
        }),
        to_writer: Condvar::new(),
        to_requests: Condvar::new(),
    });
    let writer = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("mcp-log-lines".to_owned())
        .spawn(move || {
            let mut spare = Vec::with_capacity(SOON);
            loop {
                let closed = {
                    let mut buffer = writer.lock();
                    if buffer.pending.len() < SOON && !buffer.closed {
                        buffer = writer
                            .to_writer
                            .wait_timeout(buffer, INTERVAL)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    std::mem::swap(&mut buffer.pending, &mut spare);
                    buffer.closed
                };
                writer.to_requests.notify_all();
                if !spare.is_empty() {
                    // Nowhere to report a failed log write but the log.
                    let _ = out.write_all(&spare).and_then(|()| out.flush());
                    spare.clear();
                    spare.shrink_to(FULL);
                }
                if closed && writer.lock().pending.is_empty() {
                    return;
                }
            }
        })?;
    Ok((
        Lines(Arc::clone(&shared)),
        LinesGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock();
        while buffer.pending.len() >= FULL && !buffer.closed {
            self.0.to_writer.notify_one();
            buffer = self
                .0
                .to_requests
                .wait(buffer)
                .unwrap_or_else(|e| e.into_inner());
        }
        buffer.pending.extend_from_slice(bytes);
        if buffer.pending.len() >= SOON {
            self.0.to_writer.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for LinesGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.to_writer.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_the_rest_at_the_end() {
        let sink = Sink::default();
        let (lines, guard) = start(sink.clone()).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let mut lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        // A whole line per write, as the fmt layer writes.
                        lines.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut next = [0; 4];
        for line in written.lines() {
            let (t, i) = line.split_once(' ').unwrap();
            let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[t], "thread {t}'s lines in order, none lost");
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4]);
    }

    #[test]
    fn a_line_is_out_within_moments_without_more_coming() {
        let sink = Sink::default();
        let (mut lines, _guard) = start(sink.clone()).unwrap();
        writeln!(lines, "one").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(&*sink.0.lock().unwrap(), b"one\n");
    }
}
