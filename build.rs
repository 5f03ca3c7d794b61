//! Link-time code layout for Linux builds: hands the linker `layout/executed.ld`, which places
//! the functions a polling run executes together, ahead of the rest of `.text`. The benchmark
//! floor (`bench/floor`) is built with this same script and its own `layout/executed.ld`.
//!
//! The kernel maps up to 64 KB of a binary around every code page a process touches, so peak
//! RSS follows how widely the running code is spread, not how much of it there is. Grouping
//! the executed functions keeps a run's resident code near the size of that code (see
//! docs/performance.md#peak-rss-and-code-layout).
//!
//! The script names each function twice: exactly, with the hash its symbol carries, which
//! places just the functions that ran in the build it was made from; then without the hash,
//! which still holds when the hashes change (another rustc, target, dependency or version)
//! but takes every instance of a generic function. `bench/layout.py --write` regenerates it
//! and `bench/layout.py --check` (run by `.ci/run`) fails when the functions a run executes
//! have drifted out of it or the exact names no longer match. Both GNU ld and lld read it.
//! Other systems' linkers have no such scripts, so it is passed on Linux only.
//! `PEW_LINK_LAYOUT=off` leaves it out, for a linker that cannot read linker scripts (mold);
//! `PEW_LINK_MAP=<file>` asks the linker for its map (bench/layout.py reads it).

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=layout/executed.ld");
    println!("cargo:rerun-if-env-changed=PEW_LINK_LAYOUT");
    println!("cargo:rerun-if-env-changed=PEW_LINK_MAP");
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
    // bench/layout.py reads where each function landed from the linker's map, of a build made
    // exactly as shipped: an argument from here, unlike RUSTFLAGS or a profile setting, leaves
    // the symbols' hashes (which the script's exact names carry) as they are.
    if let Some(map) = env::var_os("PEW_LINK_MAP").filter(|m| !m.is_empty()) {
        println!("cargo:rustc-link-arg-bins=-Xlinker");
        println!("cargo:rustc-link-arg-bins=-Map={}", Path::new(&map).display());
    }
}
