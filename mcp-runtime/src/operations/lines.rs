//! Where log lines go: a buffer in memory, written out by a thread of its
//! own every few milliseconds, or as soon as enough is waiting.
//!
//! A request appends its line under a lock and goes on: no system call and
//! no thread woken per line. A writer that woke a thread per line (as a
//! channel to a waiting thread does) spent more on that wake-up than on the
//! line itself, and an audit line is written for every call. Nothing is
//! dropped: when the buffer is full (the terminal or pipe is slower than
//! the lines), a request waits until it has been written. Lines still in
//! the buffer when the process is killed (not when it exits through the
//! guard) are lost: at most [`INTERVAL`]'s worth.
//!
//! Once the guard is dropped, or if the writer's thread is gone, lines are
//! written straight through, each by its own caller.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a line may wait before it is written.
const INTERVAL: Duration = Duration::from_millis(20);
/// Written at once when this much waits.
const SOON: usize = 64 * 1024;
/// A request waits when this much waits.
const FULL: usize = 4 * 1024 * 1024;
/// How long dropping the guard waits for the last lines to be written
/// (a reader that stopped reading must not hold the process's exit).
const LAST_WRITE: Duration = Duration::from_secs(5);

struct Buffer {
    pending: Vec<u8>,
    /// The guard was dropped, or the writer's thread ended: write through.
    direct: bool,
}

struct Shared {
    buffer: Mutex<Buffer>,
    /// Wakes the writer (something to write soon, or closing).
    to_writer: Condvar,
    /// Wakes requests waiting for room.
    to_requests: Condvar,
    /// Where lines go; held only while writing.
    out: Mutex<Box<dyn Write + Send>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A panic while holding the lock leaves the bytes as they were.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The output, locked. Taken while the buffer is still locked, so
    /// bytes leave in the order they were appended.
    fn out(&self) -> MutexGuard<'_, Box<dyn Write + Send>> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on, lines are written through, and nobody waits for room.
    fn go_direct(&self) {
        self.lock().direct = true;
        self.to_writer.notify_one();
        self.to_requests.notify_all();
    }
}

/// The writers' side: cheap to clone, one per event.
#[derive(Clone)]
pub(crate) struct Lines(Arc<Shared>);

/// Writes what is left and stops the writer's thread when dropped.
pub(crate) struct LinesGuard {
    shared: Arc<Shared>,
    /// Hears from the thread when it has written its last.
    done: std::sync::mpsc::Receiver<()>,
}

/// Starts the thread writing to `out`.
pub(crate) fn start(out: impl Write + Send + 'static) -> std::io::Result<(Lines, LinesGuard)> {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Buffer {
            pending: Vec::with_capacity(SOON),
            direct: false,
        }),
        to_writer: Condvar::new(),
        to_requests: Condvar::new(),
        out: Mutex::new(Box::new(out)),
    });
    let writer = Arc::clone(&shared);
    let (done_tx, done) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("mcp-log-lines".to_owned())
        .spawn(move || {
            /// However the thread ends (a panic included), writers stop
            /// relying on it.
            struct Ending(Arc<Shared>, std::sync::mpsc::Sender<()>);
            impl Drop for Ending {
                fn drop(&mut self) {
                    self.0.go_direct();
                    let _ = self.1.send(());
                }
            }
            let ending = Ending(Arc::clone(&writer), done_tx);
            let mut spare = Vec::with_capacity(SOON);
            loop {
                let (last, mut out) = {
                    let mut buffer = writer.lock();
                    if buffer.pending.len() < SOON && !buffer.direct {
                        buffer = writer
                            .to_writer
                            .wait_timeout(buffer, INTERVAL)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    std::mem::swap(&mut buffer.pending, &mut spare);
                    (buffer.direct, writer.out())
                };
                writer.to_requests.notify_all();
                if !spare.is_empty() {
                    // Nowhere to report a failed log write but the log.
                    let _ = out.write_all(&spare).and_then(|()| out.flush());
                    spare.clear();
                    spare.shrink_to(FULL);
                }
                drop(out);
                if last {
                    // Lines appended since are written through by their
                    // callers, after these.
                    drop(ending);
                    return;
                }
            }
        })?;
    Ok((Lines(Arc::clone(&shared)), LinesGuard { shared, done }))
}

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock();
        while buffer.pending.len() >= FULL && !buffer.direct {
            self.0.to_writer.notify_one();
            buffer = self
                .0
                .to_requests
                .wait(buffer)
                .unwrap_or_else(|e| e.into_inner());
        }
        if buffer.direct {
            // Whatever the thread did not take goes first.
            let earlier = std::mem::take(&mut buffer.pending);
            let mut out = self.0.out();
            drop(buffer);
            let _ = out
                .write_all(&earlier)
                .and_then(|()| out.write_all(bytes))
                .and_then(|()| out.flush());
            return Ok(bytes.len());
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
        self.shared.go_direct();
        // The thread writes what waits, unless its output is stuck.
        let _ = self.done.recv_timeout(LAST_WRITE);
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
    fn after_the_guard_lines_are_written_through() {
        let sink = Sink::default();
        let (mut lines, guard) = start(sink.clone()).unwrap();
        lines.write_all(b"before\n").unwrap();
        drop(guard);
        lines.write_all(b"after\n").unwrap();
        assert_eq!(&*sink.0.lock().unwrap(), b"before\nafter\n");
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
