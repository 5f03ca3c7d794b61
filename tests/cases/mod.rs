mod config;
mod core;
mod faults;
mod many;
mod reports;
mod retry;
mod security;
mod simulate;
