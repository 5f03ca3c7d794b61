//! A scripted HTTP/1.1 server on 127.0.0.1 for the integration tests. Each route has a
//! list of replies played in order (the last one repeats); every request is recorded with
//! its arrival time. Faults a real network produces are replies too: hang, reset, a
//! truncated body, nothing listening for a while. A handler (`Server::handle`) answers
//! what no route scripts, from state of its own: an API that remembers what it was asked.
//! On drop it stops and checks that no handler panicked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A JSON body with a status and extra headers.
    Json(u16, Value, Vec<(&'static str, String)>),
    /// Raw bytes with a status and headers (Content-Length is added).
    Raw(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// A 200 with no Content-Length: the body, then the connection closes.
    CloseDelimited(Vec<u8>),
    /// Accept the request and never answer (until the server is dropped).
    Hang,
    /// The reply, after a pause (the request is recorded when it arrives).
    Delay(Duration, Box<Reply>),
    /// Send headers and part of the body, then reset the connection.
    ResetMidBody,
    /// Close the connection at once with a TCP reset.
    Reset,
    /// The reply, then its connection closed and nothing listening on the port for a while:
    /// every connection is refused, as when the API cannot be reached at all.
    ThenRefuse(Box<Reply>, Duration),
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::Json(200, body, Vec::new())
    }
    pub fn status(code: u16, body: Value) -> Reply {
        Reply::Json(code, body, Vec::new())
    }
    pub fn with_header(self, name: &'static str, value: impl Into<String>) -> Reply {
        match self {
            Reply::Json(c, b, mut h) => {
                h.push((name, value.into()));
                Reply::Json(c, b, h)
            }
            Reply::Raw(c, mut h, b) => {
                h.push((name, value.into()));
                Reply::Raw(c, h, b)
            }
            other => other,
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Time since the server started.
    pub at: Duration,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Route {
    method: &'static str,
    path: String,
    replies: Vec<Reply>,
    next: usize,
}

/// Computes the answer to a request (`Server::handle`).
pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    /// Method, path prefix and handler, for requests no route scripts.
    handlers: Vec<(&'static str, String, Handler)>,
    requests: Vec<Request>,
    /// How long to refuse connections, asked of the accept loop by a `ThenRefuse`.
    refuse: Option<Duration>,
}

pub struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    panicked: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

pub const RESULTS: &str = "/api/v1/posts/post_1/results";

impl Server {
    pub fn new() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let panicked = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let (st, sp, pn) = (state.clone(), stop.clone(), panicked.clone());
        let accept = thread::spawn(move || {
            let mut listener = Some(listener);
            while let Some(l) = listener.take() {
                let refuse = serve(&l, &st, &sp, &pn, started);
                drop(l);
                let Some(refuse) = refuse else { return };
                // Nothing listens now, but the port stays ours: a socket bound to it and not
                // listening refuses every connection, and no other test's server or client
                // can be given the port meanwhile.
                let hold = hold_port(port);
                // The handler that asked waits for this before answering.
                st.lock().unwrap().refuse = None;
                let until = Instant::now() + refuse;
                while Instant::now() < until && !sp.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(1));
                }
                drop(hold);
                // Checked again once bound: `Drop` sets `stop` before it connects to wake us.
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                match TcpListener::bind(("127.0.0.1", port)) {
                    Ok(l) if !sp.load(Ordering::SeqCst) => listener = Some(l),
                    Ok(_) => return,
                    Err(_) => pn.store(true, Ordering::SeqCst),
                }
            }
        });
        Server { port, state, stop, panicked, accept: Some(accept) }
    }

    /// Scripts `method path` (exact path, query ignored).
    pub fn route(self, method: &'static str, path: &str, replies: Vec<Reply>) -> Server {
        assert!(!replies.is_empty());
        self.state.lock().unwrap().routes.push(Route { method, path: path.to_owned(), replies, next: 0 });
        self
    }

    /// Answers `method` requests under `prefix` that no route scripts with `f` (the first
    /// handler that matches).
    pub fn handle(
        self,
        method: &'static str,
        prefix: &str,
        f: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Server {
        self.state.lock().unwrap().handlers.push((method, prefix.to_owned(), Arc::new(f)));
        self
    }

    /// Scripts the results route of `post_1`.
    pub fn results(self, replies: Vec<Reply>) -> Server {
        self.route("GET", RESULTS, replies)
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn hits(&self, method: &str, path: &str) -> usize {
        self.requests().iter().filter(|r| r.method == method && r.path == path).count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        if !thread::panicking() {
            assert!(!self.panicked.load(Ordering::SeqCst), "a server handler panicked");
        }
    }
}

/// Accepts connections, each handled on a thread of its own, until the server stops (`None`)
/// or a handler asks for connections to be refused for a while.
fn serve(
    listener: &TcpListener,
    state: &Arc<Mutex<State>>,
    stop: &Arc<AtomicBool>,
    panicked: &Arc<AtomicBool>,
    started: Instant,
) -> Option<Duration> {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        // The connection that woke us to go dark is dropped with the listener.
        if let Some(refuse) = state.lock().unwrap().refuse {
            return Some(refuse);
        }
        let Ok(stream) = stream else { continue };
        let (st, sp, pn) = (state.clone(), stop.clone(), panicked.clone());
        thread::spawn(move || {
            let ok =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(stream, &st, &sp, started)));
            if ok.is_err() {
                pn.store(true, Ordering::SeqCst);
            }
        });
    }
    None
}

fn handle(stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool, started: Instant) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    stream.set_nodelay(true).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || stop.load(Ordering::SeqCst) {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap_or(0));
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok();
        let path = target.split('?').next().unwrap_or("").to_owned();
        let reply = {
            let mut st = state.lock().unwrap();
            let request = Request {
                method: method.clone(),
                path: path.clone(),
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                at: started.elapsed(),
            };
            st.requests.push(request.clone());
            let handler = st
                .handlers
                .iter()
                .find(|(m, prefix, _)| *m == method && path.starts_with(prefix.as_str()))
                .map(|(_, _, h)| h.clone());
            // A route scripted later for the same request takes precedence.
            match st.routes.iter_mut().rev().find(|r| r.method == method && r.path == path) {
                Some(r) => {
                    let reply = r.replies[r.next.min(r.replies.len() - 1)].clone();
                    r.next += 1;
                    reply
                }
                None => match handler {
                    Some(h) => h(&request),
                    None => Reply::status(
                        404,
                        serde_json::json!({"error": {"code": "not_found", "message": "unscripted route"}}),
                    ),
                },
            }
        };
        if let Reply::ThenRefuse(reply, refuse) = reply {
            go_dark(state, refuse, stream.local_addr().unwrap());
            answer(&stream, reply.with_header("Connection", "close"), stop);
            return;
        }
        if !answer(&stream, reply, stop) {
            return;
        }
    }
}

/// Writes a reply; returns whether the connection may be reused.
fn answer(stream: &TcpStream, reply: Reply, stop: &AtomicBool) -> bool {
    let mut s = stream;
    match reply {
        Reply::Json(code, body, headers) => {
            let mut h = headers;
            h.push(("Content-Type", "application/json".into()));
            answer(stream, Reply::Raw(code, h, body.to_string().into_bytes()), stop)
        }
        Reply::Raw(code, headers, body) => {
            let mut head = format!("HTTP/1.1 {code} Scripted\r\nContent-Length: {}\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            // One write: a head and a body written apart wait on Nagle's algorithm for the
            // client's delayed ACK (about 40 ms) whenever the connection is reused.
            let mut whole = head.into_bytes();
            whole.extend_from_slice(&body);
            let _ = s.write_all(&whole);
            let _ = s.flush();
            true
        }
        Reply::CloseDelimited(body) => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&body);
            false
        }
        Reply::Delay(pause, reply) => {
            let until = Instant::now() + pause;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            answer(stream, *reply, stop)
        }
        Reply::Hang => {
            while !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
            }
            false
        }
        Reply::ResetMidBody => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"data\": {\"results\": [");
            let _ = s.flush();
            thread::sleep(Duration::from_millis(20));
            reset(stream);
            false
        }
        Reply::Reset => {
            reset(stream);
            false
        }
        Reply::ThenRefuse(..) => unreachable!("answered by `handle`, which owns the listener's state"),
    }
}

/// A socket bound to `port` on loopback that does not listen.
fn hold_port(port: u16) -> socket2::Socket {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    s.set_reuse_address(true).expect("SO_REUSEADDR");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    s.bind(&addr.into()).expect("the port just released");
    s
}

/// Has the accept loop close the listener, and waits until it has: once the client reads
/// the reply that asked for it, its next connection is refused.
fn go_dark(state: &Mutex<State>, refuse: Duration, addr: std::net::SocketAddr) {
    state.lock().unwrap().refuse = Some(refuse);
    let _ = TcpStream::connect(addr);
    let given_up = Instant::now() + Duration::from_secs(5);
    while state.lock().unwrap().refuse.is_some() {
        assert!(Instant::now() < given_up, "the accept loop never closed the listener");
        thread::sleep(Duration::from_millis(1));
    }
}

fn reset(stream: &TcpStream) {
    // With a zero linger, closing the socket (when the handler returns) sends a RST.
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
