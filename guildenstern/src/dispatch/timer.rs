//! The housekeeping thread of a server: fires deadlines, ends accept pauses,
//! and carries out the stop. It waits on a condition variable, so a stop
//! wakes it at once; it never touches a connection a worker is serving.

use super::{Core, Protocol};
use std::sync::Arc;
use std::time::Duration;

/// How often deadlines are checked: a deadline fires at most this late.
const TICK: Duration = Duration::from_millis(100);

pub(crate) fn run<P: Protocol>(core: &Arc<Core<P>>) {
    let mut expired = Vec::with_capacity(64);
    loop {
        {
            let mut g = core.timer_lock.lock();
            if !core.stopping() {
                core.timer_cv.wait_for(&mut g, TICK);
            }
        }
        if core.stopping() {
            break;
        }
        let now = core.now_ms();
        core.check_accept_pause(now);
        core.fire_deadlines(now, &mut expired);
    }
    core.finish_stop();
}
