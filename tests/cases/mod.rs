mod config;
mod core;
mod faults;
mod many;
mod retry;
mod security;
mod simulate;
