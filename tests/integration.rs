//! The single integration-test target: the real binary against scripted servers on
//! 127.0.0.1. `util` runs the binary in a sealed environment, `server` scripts the API.

// Some helpers serve only tests that need a Unix tool (kill, script, cmark-gfm).
#![cfg_attr(windows, allow(unused_imports, dead_code))]

mod cases;
mod consumers;
mod server;
mod util;
