//! Starting a list of servers, waiting for them, and stopping them all at once.

use super::sys::signal;
use super::Server;
use crate::error::Error;
use parking_lot::Mutex;

/// Every server started in this process and not yet finished.
static RUNNING: Mutex<Vec<Server>> = Mutex::new(Vec::new());

/// Called when a server has started: [`shutdown`] reaches it from now on.
pub(crate) fn track(server: &Server) {
    RUNNING.lock().push(server.clone());
}

/// Called when a server has finished. Once none runs, no stop is under
/// way: a later `serve`'s first signal stops it gracefully again.
pub(crate) fn untrack(server: &Server) {
    let mut running = RUNNING.lock();
    running.retain(|r| !r.is_same(server));
    if running.is_empty() {
        signal::stop_over();
    }
}

/// Something that can be started as a server: the builders of every
/// protocol (`HttpServer`, …) implement it.
pub trait Startable {
    /// Binds and starts the server.
    ///
    /// # Errors
    /// A configuration that does not validate, or a port that cannot be bound.
    fn start_server(self: Box<Self>) -> Result<Server, Error>;
}

/// Starts every server, turns SIGINT and SIGTERM into [`shutdown`], and
/// blocks until all of them have stopped.
///
/// While a stop is under way (begun by a first signal or by [`shutdown`]),
/// a further SIGINT or SIGTERM ends the process at once, by the signal's
/// default action (a shell reports status 130 for SIGINT, 143 for SIGTERM):
/// a second Ctrl-C does not wait for the grace period. `serve` may run on
/// several threads at once; they share one signal handler, and the handlers
/// found before the first are back once the last `serve` has returned.
///
/// # Errors
/// The first server that cannot start; those started before it are stopped again.
pub fn serve(servers: Vec<Box<dyn Startable>>) -> Result<(), Error> {
    let guard = signal::install(shutdown).map_err(Error::Io)?;
    let mut started = Vec::with_capacity(servers.len());
    for s in servers {
        match s.start_server() {
            Ok(server) => {
                if signal::stop_under_way() {
                    // A signal came while the servers were starting: this
                    // one was not running yet when the stop reached the others.
                    server.stop();
                }
                started.push(server)
            }
            Err(e) => {
                for s in &started {
                    s.stop();
                    s.join();
                }
                return Err(e);
            }
        }
    }
    for s in &started {
        s.join();
    }
    drop(guard);
    Ok(())
}

/// Stops every server of the process: they stop accepting, let in-flight
/// requests finish within their grace period, and [`serve`](fn@serve) returns.
/// Callable from any thread, handlers included. Once called, a SIGINT or
/// SIGTERM that reaches [`serve`](fn@serve) ends the process at once.
pub fn shutdown() {
    signal::note_stop();
    let running: Vec<Server> = RUNNING.lock().clone();
    for s in running {
        s.stop();
    }
}
