//! Link-time code layout for Linux builds: hands the linker `layout/executed.ld`, which places
//! the functions a polling run executes together, ahead of the rest of `.text`. The benchmark
//! floor (`bench/floor`) is built with this same script and its own `layout/executed.ld`.
//!
//! The kernel maps up to 64 KB of a binary around every code page a process touches, so peak
//! RSS follows how widely the running code is spread, not how much of it there is. Grouping
//! the executed functions keeps a run's resident code near the size of that code (for the
//! musl binary, 1084 kB of code resident while waiting instead of 1852 kB; see
//! docs/performance.md).
//!
//! The script names sections by pattern, without the hashes symbol names carry, so it stays
//! valid across dependency versions, targets and flags; `bench/layout.py --write` regenerates
//! it and `bench/layout.py --check` (run by `.ci/run`) fails when the functions a run executes
//! have drifted out of it. Both GNU ld and lld read it. Other systems' linkers have no such
//! scripts, so it is passed on Linux only. `PEW_LINK_LAYOUT=off` leaves it out, for a linker
//! that cannot read linker scripts (mold).

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=layout/executed.ld");
    println!("cargo:rerun-if-env-changed=PEW_LINK_LAYOUT");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    match env::var("PEW_LINK_LAYOUT").as_deref() {
        Err(_) | Ok("" | "on") => {}
        Ok("off") => return,
        Ok(other) => panic!("PEW_LINK_LAYOUT: expected on or off, got {other:?}"),
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&dir).join("layout").join("executed.ld");
    assert!(script.is_file(), "{} is missing", script.display());
    // Two arguments rather than `-Wl,-T,<path>`: a comma in the path would split it.
    println!("cargo:rustc-link-arg-bins=-T");
    println!("cargo:rustc-link-arg-bins={}", script.display());
}
