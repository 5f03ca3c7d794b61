//! SIGINT and SIGTERM as a future. Handlers are installed when `Signals` is created (at
//! start-up), which also makes them work when we are PID 1 in a container, where signals
//! without a handler are ignored by the kernel.
//!
//! On Unix each handler records its signal and writes a byte to one socket (a self-pipe,
//! through signal-hook, which does only async-signal-safe work in the handler); `recv`
//! waits for that socket to turn readable. tokio's own signal driver would set up a channel
//! for each of the 65 signals when the runtime starts (about 35 k instructions before the
//! first request, docs/performance.md); and the wait loop polls its stop future every time
//! it wakes, which here is one readiness check.

use crate::outcome::Signal;

#[cfg(unix)]
pub use unix::Signals;

#[cfg(unix)]
mod unix {
    use std::io::ErrorKind;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use signal_hook::consts::{SIGINT, SIGTERM};

    use super::Signal;

    pub struct Signals {
        /// Readable once a handler ran.
        wake: tokio::net::UnixStream,
        /// The number of the signal that came last (0: none since the last `recv`).
        which: Arc<AtomicUsize>,
    }

    impl Signals {
        /// Installs the handlers; must be called inside the runtime.
        pub fn install() -> std::io::Result<Self> {
            let (read, write) = std::os::unix::net::UnixStream::pair()?;
            read.set_nonblocking(true)?;
            let which = Arc::new(AtomicUsize::new(0));
            for sig in [SIGINT, SIGTERM] {
                // Per signal, actions run in the order they were registered: the number is
                // stored before the byte that wakes `recv` is written.
                signal_hook::flag::register_usize(sig, Arc::clone(&which), sig as usize)?;
                signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
            }
            Ok(Self { wake: tokio::net::UnixStream::from_std(read)?, which })
        }

        /// Resolves with the next signal received.
        pub async fn recv(&mut self) -> Signal {
            let mut bytes = [0u8; 32];
            loop {
                if self.wake.readable().await.is_err() {
                    return std::future::pending().await;
                }
                match self.wake.try_read(&mut bytes) {
                    // The handlers hold the write end for the life of the process.
                    Ok(0) => return std::future::pending().await,
                    Ok(_) => match self.which.swap(0, Ordering::SeqCst) {
                        n if n == SIGTERM as usize => return Signal::Terminate,
                        n if n == SIGINT as usize => return Signal::Interrupt,
                        // A byte whose number an earlier `recv` already took.
                        _ => {}
                    },
                    Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return std::future::pending().await,
                }
            }
        }
    }
}

/// Ctrl-C, through tokio's driver, forwarded into a channel.
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
