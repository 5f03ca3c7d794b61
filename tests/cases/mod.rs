mod config;
mod core;
mod faults;
mod security;
mod simulate;
