//! SIGINT and SIGTERM as a future. Handlers are installed when `Signals` is created (at
//! start-up), which also makes them work when we are PID 1 in a container, where signals
//! without a handler are ignored by the kernel.
//!
//! On Unix each signal's handler writes a byte to a socket of its own (a self-pipe, through
//! signal-hook, which does only async-signal-safe work in the handler); `recv` waits for
//! either socket to turn readable. tokio's own signal driver set up a channel for each of
//! the 65 signals when the runtime started (about 35 k instructions and 70 allocations
//! before the first request, where these two handlers take about 11 k; a flag per signal
//! beside one shared socket took 17 k, since every registration copies signal-hook's
//! table; docs/performance.md). The wait loop polls its stop future every time it wakes,
//! which here is two readiness checks.

use crate::outcome::Signal;

#[cfg(unix)]
pub use unix::Signals;

#[cfg(unix)]
mod unix {
    use std::io::ErrorKind;

    use signal_hook::consts::{SIGINT, SIGTERM};
    use tokio::net::UnixStream;

    use super::Signal;

    pub struct Signals {
        /// Readable once SIGTERM's handler ran.
        term: UnixStream,
        /// Readable once SIGINT's handler ran.
        int: UnixStream,
    }

    impl Signals {
        /// Installs the handlers; must be called inside the runtime.
        pub fn install() -> std::io::Result<Self> {
            Self::on(SIGTERM, SIGINT)
        }

        /// Handlers for the signals that stand for SIGTERM and SIGINT (tests use others:
        /// signal-hook's handlers stay for the life of the process).
        fn on(term: i32, int: i32) -> std::io::Result<Self> {
            Ok(Self { term: wake_on(term)?, int: wake_on(int)? })
        }

        /// Resolves with the next signal received, SIGTERM first when both came (what CI
        /// sends to cancel a job). A signal that came before the first call is not lost:
        /// its socket is readable already.
        pub async fn recv(&mut self) -> Signal {
            loop {
                let (ready, wake, signal) = tokio::select! {
                    biased;
                    r = self.term.readable() => (r, &self.term, Signal::Terminate),
                    r = self.int.readable() => (r, &self.int, Signal::Interrupt),
                };
                match ready.and_then(|()| drain(wake)) {
                    Ok(true) => return signal,
                    // Readiness that was stale: wait again.
                    Ok(false) => {}
                    Err(_) => return std::future::pending().await,
                }
            }
        }
    }

    /// A socket that turns readable when `signal` comes: the handler holds the write end
    /// for the life of the process.
    fn wake_on(signal: i32) -> std::io::Result<UnixStream> {
        let (read, write) = std::os::unix::net::UnixStream::pair()?;
        read.set_nonblocking(true)?;
        signal_hook::low_level::pipe::register(signal, write)?;
        UnixStream::from_std(read)
    }

    /// Empties a wake-up socket; whether its signal came since it was last emptied.
    fn drain(wake: &UnixStream) -> std::io::Result<bool> {
        let (mut bytes, mut came) = ([0u8; 32], false);
        loop {
            match wake.try_read(&mut bytes) {
                // The handler holds the write end for the life of the process.
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(_) => came = true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(came),
                Err(e) => return Err(e),
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
