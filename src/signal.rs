//! SIGINT and SIGTERM as a future. Handlers are installed when `Signals` is created (at
//! start-up), which also makes them work when we are PID 1 in a container, where signals
//! without a handler are ignored by the kernel.
//!
//! A task forwards each signal into a channel, and `recv` waits on the channel: the wait
//! loop polls its stop future every time it wakes (several times per request), and a
//! channel with nothing in it answers that in a few instructions, where the two signal
//! streams were each polled in turn.

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::outcome::Signal;

pub struct Signals {
    rx: UnboundedReceiver<Signal>,
}

impl Signals {
    /// Installs the handlers and starts the task that forwards them; must be called inside
    /// the runtime.
    pub fn install() -> std::io::Result<Self> {
        let (tx, rx) = unbounded_channel();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut int = signal(SignalKind::interrupt())?;
            let mut term = signal(SignalKind::terminate())?;
            tokio::spawn(async move {
                loop {
                    // `None`: the runtime's signal driver is gone; no further signal comes.
                    let (s, more) = tokio::select! {
                        r = int.recv() => (Signal::Interrupt, r.is_some()),
                        r = term.recv() => (Signal::Terminate, r.is_some()),
                    };
                    if tx.send(s).is_err() || !more {
                        break;
                    }
                }
            });
        }
        #[cfg(not(unix))]
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
