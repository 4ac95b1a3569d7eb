//! What the examples share: turning on the log.

/// Prints log records to stderr, at `info` and above unless `RUST_LOG`
/// says otherwise (`RUST_LOG=debug` shows every connection's close, and
/// `RUST_LOG=guildenstern=warn` only the framework's warnings).
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
}
