//! SIGINT and SIGTERM as a future. Handlers are installed when `Signals` is created (at
//! start-up), which also makes them work when we are PID 1 in a container, where signals
//! without a handler are ignored by the kernel.
//!
//! On Unix each signal's handler writes a byte to a socket of its own (a self-pipe, through
//! signal-hook, which does only async-signal-safe work in the handler); the wait turns
//! ready when either socket turns readable, SIGTERM first when both signals came (SIGTERM's
//! socket is read directly before SIGINT is reported, since tokio may not have seen it turn
//! readable yet). tokio's own signal driver set up a channel for each of the 65 signals when
//! the runtime started (about 35 k instructions and 70 allocations before the first request);
//! two signal-hook registrations cost about 6 k fewer instructions than the four of a flag
//! per signal beside one shared socket, since every registration copies signal-hook's table
//! (docs/performance.md).
//!
//! The wait loop polls its stop future every time anything wakes it, once or more per
//! poll. `recv`'s future is a [`WhenWoken`]: it looks at the sockets on its first poll, after
//! their readiness woke it and when the task's waker changed, and otherwise costs one atomic
//! swap.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::outcome::Signal;

#[cfg(unix)]
pub use unix::Signals;

#[cfg(unix)]
mod unix {
    use std::io::{ErrorKind, Read as _};

    use signal_hook::consts::{SIGINT, SIGTERM};
    use tokio::net::UnixStream;

    use super::{Signal, WhenWoken};

    pub struct Signals {
        /// Readable once SIGTERM's handler ran.
        term: UnixStream,
        /// The same socket, read without waiting for tokio to see it readable.
        term_now: std::os::unix::net::UnixStream,
        /// Readable once SIGINT's handler ran.
        int: UnixStream,
        /// SIGINT came with a SIGTERM that was reported first: reported next.
        int_came: bool,
    }

    impl Signals {
        /// Installs the handlers; must be called inside the runtime.
        pub fn install() -> std::io::Result<Self> {
            Self::on(SIGTERM, SIGINT)
        }

        /// Handlers for the signals that stand for SIGTERM and SIGINT (tests use others:
        /// signal-hook's handlers stay for the life of the process).
        fn on(term: i32, int: i32) -> std::io::Result<Self> {
            let (term, term_now) = wake_on(term)?;
            Ok(Self { term, term_now, int: wake_on(int)?.0, int_came: false })
        }

        /// Resolves with the next signal received, SIGTERM first when both came (what CI
        /// sends to cancel a job). A signal that came before the first poll is not lost:
        /// its socket is readable already.
        pub fn recv(&mut self) -> WhenWoken<impl Future<Output = Signal> + '_> {
            WhenWoken::new(self.next())
        }

        async fn next(&mut self) -> Signal {
            if std::mem::take(&mut self.int_came) {
                return Signal::Interrupt;
            }
            loop {
                let (ready, wake, signal) = tokio::select! {
                    biased;
                    r = self.term.readable() => (r, &self.term, Signal::Terminate),
                    r = self.int.readable() => (r, &self.int, Signal::Interrupt),
                };
                match ready.and_then(|()| drain(|b| wake.try_read(b))) {
                    // SIGTERM may have come after tokio last looked at its socket: it wins.
                    // (The readiness tokio then keeps for it is stale: `Ok(false)` below.)
                    Ok(true)
                        if signal == Signal::Interrupt
                            && matches!(drain(|b| (&self.term_now).read(b)), Ok(true)) =>
                    {
                        self.int_came = true;
                        return Signal::Terminate;
                    }
                    Ok(true) => return signal,
                    // Readiness that was stale: wait again.
                    Ok(false) => {}
                    Err(_) => return std::future::pending().await,
                }
            }
        }
    }

    /// A socket that turns readable when `signal` comes (the handler holds the write end
    /// for the life of the process), and a second handle on it for reading directly.
    fn wake_on(signal: i32) -> std::io::Result<(UnixStream, std::os::unix::net::UnixStream)> {
        let (read, write) = std::os::unix::net::UnixStream::pair()?;
        read.set_nonblocking(true)?;
        signal_hook::low_level::pipe::register(signal, write)?;
        let now = read.try_clone()?;
        Ok((UnixStream::from_std(read)?, now))
    }

    /// Empties a wake-up socket through `read` (non-blocking); whether its signal came since
    /// it was last emptied.
    fn drain(mut read: impl FnMut(&mut [u8]) -> std::io::Result<usize>) -> std::io::Result<bool> {
        let (mut bytes, mut came) = ([0u8; 32], false);
        loop {
            match read(&mut bytes) {
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
            let five = std::time::Duration::from_secs(5);
            assert_eq!(tokio::time::timeout(five, signals.recv()).await.ok(), Some(Signal::Terminate));
            assert_eq!(tokio::time::timeout(five, signals.recv()).await.ok(), Some(Signal::Interrupt));
            let again = tokio::time::timeout(std::time::Duration::from_millis(20), signals.recv()).await;
            assert!(again.is_err(), "a signal came out twice: {again:?}");
        }

        /// SIGINT's socket turned readable and tokio saw it; SIGTERM came before the waiting
        /// task ran (its socket not yet seen readable): SIGTERM still wins, and SIGINT comes
        /// out next. SIGWINCH and SIGURG (ignored by default) stand in for them.
        #[test]
        fn sigterm_wins_when_it_comes_before_a_seen_sigint_is_reported() {
            use signal_hook::consts::{SIGURG, SIGWINCH};
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let got = rt.block_on(async {
                let mut signals = Signals::on(SIGWINCH, SIGURG).unwrap();
                let (a, b) = UnixStream::pair().unwrap();
                let waiting = tokio::spawn(async move { (signals.recv().await, signals.recv().await) });
                // Woken in the same turn of the driver as SIGINT's socket, and run first.
                let raiser = tokio::spawn(async move {
                    b.readable().await.unwrap();
                    signal_hook::low_level::raise(SIGWINCH).unwrap();
                });
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                a.try_write(b"x").unwrap();
                signal_hook::low_level::raise(SIGURG).unwrap();
                let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
                raiser.await.unwrap();
                got.expect("no signal came out").unwrap()
            });
            assert_eq!(got, (Signal::Terminate, Signal::Interrupt));
        }
    }
}

/// A future that polls `inner` only when `inner` asked to be: on the first poll, after the
/// waker `inner` registered fired, and when the task's waker changed. Every other poll is
/// one atomic swap and returns `Pending`.
pub struct WhenWoken<F> {
    inner: Pin<Box<F>>,
    woken: Arc<Woken>,
    /// `woken` as a waker: what `inner` registers.
    waker: Waker,
    /// The task's waker `woken` forwards to, as last handed over.
    task: Option<Waker>,
}

/// Set by `inner`'s wake-up, which it passes on to the task.
struct Woken {
    flag: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // The flag before the task's wake-up: the poll that wake-up causes sees it.
        self.flag.store(true, Ordering::Release);
        if let Some(task) = &*self.task.lock().unwrap_or_else(PoisonError::into_inner) {
            task.wake_by_ref();
        }
    }
}

impl<F: Future> WhenWoken<F> {
    pub fn new(inner: F) -> Self {
        let woken = Arc::new(Woken { flag: AtomicBool::new(true), task: Mutex::new(None) });
        Self { inner: Box::pin(inner), waker: Waker::from(Arc::clone(&woken)), woken, task: None }
    }
}

impl<F: Future> Future for WhenWoken<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if !this.task.as_ref().is_some_and(|task| task.will_wake(cx.waker())) {
            *this.woken.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            this.task = Some(cx.waker().clone());
            // A wake-up may have gone to the old task: look now.
            this.woken.flag.store(true, Ordering::Release);
        }
        if !this.woken.flag.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        this.inner.as_mut().poll(&mut Context::from_waker(&this.waker))
    }
}

/// Ctrl-C and Ctrl-Break (Windows), through tokio's driver, forwarded into a channel. The
/// GitHub runner cancels a step on Windows with Ctrl-C, then Ctrl-Break where SIGTERM would
/// come (a process group started with Ctrl-C disabled gets only the second); without a
/// handler Ctrl-Break ends the process at once, no output written.
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
        // Both registered here, before the forwarding tasks first run: with no listener
        // registered, tokio's console handler lets Ctrl-C end the process at once, no
        // output written (as a `ctrl_c()` future, registered when first polled, would
        // leave it before the task ran, and between two of its turns).
        #[cfg(windows)]
        let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
        #[cfg(windows)]
        let mut ctrl_break = tokio::signal::windows::ctrl_break()?;
        #[cfg(windows)]
        let breaks = tx.clone();
        #[cfg(windows)]
        tokio::spawn(async move {
            while ctrl_c.recv().await.is_some() {
                if tx.send(Signal::Interrupt).is_err() {
                    break;
                }
            }
        });
        #[cfg(not(windows))]
        tokio::spawn(async move {
            loop {
                let more = tokio::signal::ctrl_c().await.is_ok();
                if tx.send(Signal::Interrupt).is_err() || !more {
                    break;
                }
            }
        });
        #[cfg(windows)]
        tokio::spawn(async move {
            while ctrl_break.recv().await.is_some() {
                if breaks.send(Signal::Terminate).is_err() {
                    break;
                }
            }
        });
        Ok(Self { rx })
    }

    /// Resolves with the next signal received.
    pub fn recv(&mut self) -> WhenWoken<impl Future<Output = Signal> + '_> {
        WhenWoken::new(async {
            match self.rx.recv().await {
                Some(s) => s,
                // The forwarding task ended after its last signal: none will come.
                None => std::future::pending().await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A task's waker that counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An inner future: counts its polls, keeps the waker it was given, ready once told.
    #[derive(Default)]
    struct Probe {
        polls: AtomicUsize,
        ready: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }

    fn probe(p: &Arc<Probe>) -> impl Future<Output = ()> + use<> {
        let p = Arc::clone(p);
        std::future::poll_fn(move |cx| {
            p.polls.fetch_add(1, Ordering::SeqCst);
            *p.waker.lock().unwrap() = Some(cx.waker().clone());
            if p.ready.load(Ordering::SeqCst) { Poll::Ready(()) } else { Poll::Pending }
        })
    }

    fn wake_inner(p: &Probe) {
        p.waker.lock().unwrap().take().expect("the inner future left a waker").wake();
    }

    #[test]
    fn the_inner_future_is_polled_only_after_its_own_wake_up() {
        let (p, count) = (Arc::new(Probe::default()), Arc::new(Count::default()));
        let task = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&task);
        let mut stop = WhenWoken::new(probe(&p));
        for _ in 0..5 {
            assert!(Pin::new(&mut stop).poll(&mut cx).is_pending());
        }
        assert_eq!(p.polls.load(Ordering::SeqCst), 1, "polled while nothing woke it");
        wake_inner(&p);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the wake-up did not reach the task");
        assert!(Pin::new(&mut stop).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut stop).poll(&mut cx).is_pending());
        assert_eq!(p.polls.load(Ordering::SeqCst), 2);
        p.ready.store(true, Ordering::SeqCst);
        wake_inner(&p);
        assert!(Pin::new(&mut stop).poll(&mut cx).is_ready());
        assert_eq!(p.polls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_new_task_waker_gets_a_poll_and_later_wake_ups() {
        let (p, first, second) =
            (Arc::new(Probe::default()), Arc::new(Count::default()), Arc::new(Count::default()));
        let mut stop = WhenWoken::new(probe(&p));
        let one = Waker::from(Arc::clone(&first));
        assert!(Pin::new(&mut stop).poll(&mut Context::from_waker(&one)).is_pending());
        let two = Waker::from(Arc::clone(&second));
        assert!(Pin::new(&mut stop).poll(&mut Context::from_waker(&two)).is_pending());
        assert_eq!(p.polls.load(Ordering::SeqCst), 2, "not polled for the new task");
        wake_inner(&p);
        assert_eq!((first.0.load(Ordering::SeqCst), second.0.load(Ordering::SeqCst)), (0, 1));
        assert!(Pin::new(&mut stop).poll(&mut Context::from_waker(&two)).is_pending());
        assert_eq!(p.polls.load(Ordering::SeqCst), 3, "not polled after its wake-up");
        assert!(Pin::new(&mut stop).poll(&mut Context::from_waker(&two)).is_pending());
        assert_eq!(p.polls.load(Ordering::SeqCst), 3, "polled again without a wake-up");
    }
}
