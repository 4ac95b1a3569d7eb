//! One connection's shared state, and the table that maps socket ids to it.

use super::outbox::Outbox;
use super::CloseCause;
use parking_lot::{Mutex, RwLock};
use std::any::Any;
use std::fmt;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// Identifies one connection of one server for as long as it is open.
///
/// Ids are never confused across reuse: a slot's generation changes each
/// time a connection leaves it, so an id kept after its connection closed
/// simply finds nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl SocketId {
    pub(crate) fn new(index: u32, generation: u32) -> Self {
        SocketId((u64::from(generation) << 32) | u64::from(index))
    }
    pub(crate) fn index(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }
    /// The id as one number, stable while the connection is open (for logs and maps).
    pub fn as_u64(self) -> u64 {
        self.0
    }
    pub(crate) fn from_token(token: u64) -> Self {
        SocketId(token)
    }
}

impl fmt::Debug for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.0 & 0xffff_ffff, self.0 >> 32)
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which deadline is armed on a parked connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DeadlineKind {
    /// No deadline.
    None = 0,
    /// The whole request head (or first frame) must arrive before it.
    Head = 1,
    /// The body must make progress before it.
    Body = 2,
    /// An idle keep-alive connection is closed at it.
    Idle = 3,
    /// A connection closing after an error answer is dropped at it.
    Linger = 4,
    /// A close handshake the peer has not answered ends at it.
    Closing = 5,
    /// Output the peer does not read is dropped, and the connection closed, at it.
    Send = 6,
}

impl DeadlineKind {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => DeadlineKind::Head,
            2 => DeadlineKind::Body,
            3 => DeadlineKind::Idle,
            4 => DeadlineKind::Linger,
            5 => DeadlineKind::Closing,
            6 => DeadlineKind::Send,
            _ => DeadlineKind::None,
        }
    }
}

/// Scheduling states of a connection: the portable dispatcher's queue
/// (see `portable.rs`); the epoll dispatcher uses IDLE, BUSY, BUSY_AGAIN
/// and MUTED to mark the worker serving it (see `epoll.rs`).
pub(crate) mod sched {
    pub(crate) const IDLE: u8 = 0;
    pub(crate) const QUEUED: u8 = 1;
    pub(crate) const BUSY: u8 = 2;
    pub(crate) const BUSY_AGAIN: u8 = 3;
    /// BUSY_AGAIN, and its events are off until the worker serving it is done.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) const MUTED: u8 = 4;
}

/// A connection: the socket, the protocol's state (locked by the one worker
/// serving it), and what other threads may touch without that lock.
pub(crate) struct Conn<S> {
    pub(crate) id: SocketId,
    pub(crate) stream: TcpStream,
    pub(crate) state: Mutex<S>,
    /// Output owed to the peer, written by any thread under this lock, so
    /// what several threads send never interleaves (held only for
    /// non-blocking writes).
    pub(crate) out: Mutex<Outbox>,
    pub(crate) closed: AtomicBool,
    pub(crate) lingering: AtomicBool,
    /// The cause and message a lingering close began with: its close
    /// reports them when the linger ends.
    pub(crate) linger_cause: Mutex<Option<(CloseCause, String)>>,
    /// Bytes read and dropped while lingering, in all (only the thread
    /// holding the state lock touches it).
    pub(crate) drained: AtomicUsize,
    /// The armed deadline: its kind in the top byte, milliseconds since the
    /// server's epoch below (0: none). One word, so that kind and time are
    /// read and replaced together.
    deadline: AtomicU64,
    pub(crate) sched: AtomicU8,
    /// The poller reported the peer's end (or an error). The end comes as
    /// one edge, possibly with the last bytes, and a read that returns those
    /// bytes does not report it: the worker serving the connection takes
    /// this flag and serves once more, so that a read sees the end.
    pub(crate) hangup: AtomicBool,
    /// The dispatcher watches it for writable too (from the first time its
    /// output had to wait on; edge-triggered, so this costs no events while
    /// the socket has room).
    pub(crate) watching_writable: AtomicBool,
    /// Bits a protocol keeps per connection where any thread can see them.
    pub(crate) flags: AtomicU8,
    pub(crate) data: Mutex<Option<Box<dyn Any + Send>>>,
    /// The on-close callback of a connection closed while another thread
    /// held its state: run by whichever thread takes the state next
    /// (`Core::run_owed_close`), so that it always sees the state.
    pub(crate) close_owed: Mutex<Option<(CloseCause, String)>>,
}

impl<S> Conn<S> {
    pub(crate) fn new(id: SocketId, stream: TcpStream, state: S) -> Self {
        Conn {
            id,
            stream,
            state: Mutex::new(state),
            out: Mutex::new(Outbox::default()),
            closed: AtomicBool::new(false),
            lingering: AtomicBool::new(false),
            linger_cause: Mutex::new(None),
            drained: AtomicUsize::new(0),
            deadline: AtomicU64::new(0),
            sched: AtomicU8::new(sched::IDLE),
            hangup: AtomicBool::new(false),
            watching_writable: AtomicBool::new(false),
            flags: AtomicU8::new(0),
            data: Mutex::new(None),
            close_owed: Mutex::new(None),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Its last answer went out: it half-closed and drains what the peer
    /// still sends, and answers nothing more.
    pub(crate) fn is_lingering(&self) -> bool {
        self.lingering.load(Ordering::SeqCst)
    }

    pub(crate) fn set_deadline(&self, kind: DeadlineKind, at_ms: u64) {
        self.deadline
            .store(pack_deadline(kind, at_ms), Ordering::Release);
    }

    pub(crate) fn deadline(&self) -> (DeadlineKind, u64) {
        unpack_deadline(self.deadline.load(Ordering::Acquire))
    }

    /// Moves the deadline `fired` to `at_ms`, unless another thread armed a
    /// different one since (a close handshake's, say); true when moved.
    pub(crate) fn renew_deadline(&self, fired: (DeadlineKind, u64), at_ms: u64) -> bool {
        self.deadline
            .compare_exchange(
                pack_deadline(fired.0, fired.1),
                pack_deadline(fired.0, at_ms),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}

const DEADLINE_KIND_SHIFT: u32 = 56;

fn pack_deadline(kind: DeadlineKind, at_ms: u64) -> u64 {
    if kind == DeadlineKind::None {
        return 0;
    }
    let at = at_ms.clamp(1, (1 << DEADLINE_KIND_SHIFT) - 1);
    (kind as u64) << DEADLINE_KIND_SHIFT | at
}

fn unpack_deadline(word: u64) -> (DeadlineKind, u64) {
    (
        DeadlineKind::from_u8((word >> DEADLINE_KIND_SHIFT) as u8),
        word & ((1 << DEADLINE_KIND_SHIFT) - 1),
    )
}

struct Slot<T> {
    generation: u32,
    item: Option<T>,
}

/// Open connections by index, with generations; lookups take a read lock.
pub(crate) struct Table<T> {
    inner: RwLock<TableInner<T>>,
}

struct TableInner<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T: Clone> Table<T> {
    pub(crate) fn new() -> Self {
        Table {
            inner: RwLock::new(TableInner {
                slots: Vec::new(),
                free: Vec::new(),
                len: 0,
            }),
        }
    }

    /// Stores the item made by `make` for a fresh id.
    pub(crate) fn insert<E>(&self, make: impl FnOnce(SocketId) -> Result<T, E>) -> Result<T, E> {
        let mut t = self.inner.write();
        let index = match t.free.pop() {
            Some(i) => i,
            None => {
                t.slots.push(Slot {
                    generation: 1,
                    item: None,
                });
                (t.slots.len() - 1) as u32
            }
        };
        let id = SocketId::new(index, t.slots[index as usize].generation);
        match make(id) {
            Ok(item) => {
                t.slots[index as usize].item = Some(item.clone());
                t.len += 1;
                Ok(item)
            }
            Err(e) => {
                t.free.push(index);
                Err(e)
            }
        }
    }

    pub(crate) fn get(&self, id: SocketId) -> Option<T> {
        let t = self.inner.read();
        let slot = t.slots.get(id.index())?;
        if SocketId::new(id.index() as u32, slot.generation) == id {
            slot.item.clone()
        } else {
            None
        }
    }

    pub(crate) fn remove(&self, id: SocketId) -> Option<T> {
        let mut t = self.inner.write();
        let slot = t.slots.get_mut(id.index())?;
        if SocketId::new(id.index() as u32, slot.generation) != id {
            return None;
        }
        let item = slot.item.take()?;
        slot.generation = slot.generation.wrapping_add(1).max(1);
        t.free.push(id.index() as u32);
        t.len -= 1;
        Some(item)
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.read().len
    }

    /// Calls `f` on every item, under the read lock (keep `f` short).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        let t = self.inner.read();
        for slot in &t.slots {
            if let Some(item) = &slot.item {
                f(item);
            }
        }
    }
}

/// A connection shared between the table, workers and other threads.
pub(crate) type ConnRef<S> = Arc<Conn<S>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Conn<()> {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        Conn::new(SocketId::from_token(0), s, ())
    }

    #[test]
    fn deadline_kind_and_time_travel_together() {
        let c = conn();
        assert_eq!(c.deadline(), (DeadlineKind::None, 0));
        c.set_deadline(DeadlineKind::Closing, 12_345);
        assert_eq!(c.deadline(), (DeadlineKind::Closing, 12_345));
        c.set_deadline(DeadlineKind::Head, 0);
        assert_eq!(c.deadline(), (DeadlineKind::Head, 1), "0 would mean none");
        c.set_deadline(DeadlineKind::None, 99);
        assert_eq!(c.deadline(), (DeadlineKind::None, 0));
    }

    #[test]
    fn renewing_leaves_a_deadline_armed_since_alone() {
        let c = conn();
        c.set_deadline(DeadlineKind::Idle, 100);
        assert!(c.renew_deadline((DeadlineKind::Idle, 100), 200));
        assert_eq!(c.deadline(), (DeadlineKind::Idle, 200));
        // A close handshake armed its deadline after the idle one fired.
        c.set_deadline(DeadlineKind::Closing, 150);
        assert!(!c.renew_deadline((DeadlineKind::Idle, 200), 300));
        assert_eq!(c.deadline(), (DeadlineKind::Closing, 150));
    }
}
