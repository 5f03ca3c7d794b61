//! Checkers written from the rules of the code that reads what the binary writes
//! (`shared/reference/real-parsers.md`): the GitHub runner's workflow-command parser and
//! output-file reader (`tests/util/runner.rs`), GitHub's Markdown renderer (`cmark-gfm`
//! itself), GitLab's dotenv, variable expansion, JUnit and annotations rules, and the
//! results file's published JSON Schema as a validator applies it. Each is small, separate
//! from the binary's own code, and shown to reject a broken file by the tests next to it.

pub mod github;
pub mod gitlab;
pub mod markdown;
pub mod schema;
