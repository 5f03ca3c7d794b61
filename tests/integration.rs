//! The single integration-test target: the real binary against scripted servers on
//! 127.0.0.1. `util` runs the binary in a sealed environment, `server` scripts the API.

mod cases;
mod consumers;
mod server;
mod util;
