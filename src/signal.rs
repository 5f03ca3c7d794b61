//! SIGINT and SIGTERM as a future. Handlers are installed when `Signals` is created (at
//! start-up), which also makes them work when we are PID 1 in a container, where signals
//! without a handler are ignored by the kernel.
//!
//! On Unix each handler sets its signal's flag and writes a byte to one socket (a self-pipe,
//! through signal-hook, which does only async-signal-safe work in the handler); `recv`
//! waits for that socket to turn readable. tokio's own signal driver set up a channel for
//! each of the 65 signals when the runtime started (about 35 k instructions and 70
//! allocations before the first request, where these handlers take about 17 k;
//! docs/performance.md). The wait loop polls its stop future every time it wakes, which here
//! is one readiness check. A socket per signal (two registrations instead of four) saved
//! about 6 k instructions at start, but its second readiness check cost 0.6 to 0.8 k per
//! poll on glibc, where the per-poll target has no room for it (docs/performance.md).

use crate::outcome::Signal;

#[cfg(unix)]
pub use unix::Signals;

#[cfg(unix)]
mod unix {
    use std::io::ErrorKind;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use signal_hook::consts::{SIGINT, SIGTERM};

    use super::Signal;

    pub struct Signals {
        /// Readable once a handler ran.
        wake: tokio::net::UnixStream,
        /// Set by each signal's handler, before it writes to the socket.
        term: Arc<AtomicBool>,
        int: Arc<AtomicBool>,
    }

    impl Signals {
        /// Installs the handlers; must be called inside the runtime.
        pub fn install() -> std::io::Result<Self> {
            Self::on(SIGTERM, SIGINT)
        }

        /// Handlers for the signals that stand for SIGTERM and SIGINT (tests use others:
        /// signal-hook's handlers stay for the life of the process).
        fn on(term_signal: i32, int_signal: i32) -> std::io::Result<Self> {
            let (read, write) = std::os::unix::net::UnixStream::pair()?;
            read.set_nonblocking(true)?;
            let (term, int) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
            for (sig, flag) in [(term_signal, &term), (int_signal, &int)] {
                // Per signal, actions run in the order they were registered: the flag is set
                // before the byte that wakes `recv` is written.
                signal_hook::flag::register(sig, Arc::clone(flag))?;
                signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
            }
            Ok(Self { wake: tokio::net::UnixStream::from_std(read)?, term, int })
        }

        /// A signal that came, SIGTERM first when both did (what CI sends to cancel a job).
        fn take(&self) -> Option<Signal> {
            if self.term.swap(false, Ordering::SeqCst) {
                Some(Signal::Terminate)
            } else if self.int.swap(false, Ordering::SeqCst) {
                Some(Signal::Interrupt)
            } else {
                None
            }
        }

        /// Resolves with the next signal received.
        pub async fn recv(&mut self) -> Signal {
            let mut bytes = [0u8; 32];
            loop {
                // Before waiting: a signal between a flag's and its wake-up's registration
                // set the flag and wrote nothing.
                if let Some(s) = self.take() {
                    return s;
                }
                if self.wake.readable().await.is_err() {
                    return std::future::pending().await;
                }
                // Empty the socket; the flags say which signals came.
                loop {
                    match self.wake.try_read(&mut bytes) {
                        // The handlers hold the write end for the life of the process.
                        Ok(0) => return std::future::pending().await,
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => return std::future::pending().await,
                    }
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Both signals before the first wait: SIGTERM first, then SIGINT, each once. SIGUSR1
        /// and SIGUSR2 stand in for them: a handler for SIGTERM would outlive the test and
        /// keep the test binary from being stopped with it.
        #[tokio::test]
        async fn both_signals_come_out_sigterm_first_each_once() {
            use signal_hook::consts::{SIGUSR1, SIGUSR2};
            let mut signals = Signals::on(SIGUSR1, SIGUSR2).unwrap();
            signal_hook::low_level::raise(SIGUSR2).unwrap();
            signal_hook::low_level::raise(SIGUSR2).unwrap();
            signal_hook::low_level::raise(SIGUSR1).unwrap();
            assert_eq!(signals.recv().await, Signal::Terminate);
            assert_eq!(signals.recv().await, Signal::Interrupt);
            let again = tokio::time::timeout(std::time::Duration::from_millis(20), signals.recv()).await;
            assert!(again.is_err(), "a signal came out twice: {again:?}");
        }
    }
}

/// Ctrl-C (Windows), through tokio's driver, forwarded into a channel.
#[cfg(not(unix))]
pub struct Signals {
    rx: tokio::sync::mpsc::UnboundedReceiver<Signal>,
}

#[cfg(not(unix))]
impl Signals {
    /// Installs the handler and starts the task that forwards it; must be called inside
    /// the runtime.
    pub fn install() -> std::io::Result<Self> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let more = tokio::signal::ctrl_c().await.is_ok();
                if tx.send(Signal::Interrupt).is_err() || !more {
                    break;
                }
            }
        });
        Ok(Self { rx })
    }

    /// Resolves with the next signal received.
    pub async fn recv(&mut self) -> Signal {
        match self.rx.recv().await {
            Some(s) => s,
            // The forwarding task ended after its last signal: none will come.
            None => std::future::pending().await,
        }
    }
}
