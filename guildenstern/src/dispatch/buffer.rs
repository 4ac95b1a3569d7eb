//! The read buffer a protocol keeps per connection: `buf[start..filled]`
//! holds the bytes not yet consumed; the rest of `buf` is room to read into.
//! `buf` is fully initialised once, so reading into it needs no `unsafe`.

/// The read buffer a connection starts with; it grows for larger input and
/// shrinks back after it.
pub(crate) const INITIAL_BUFFER: usize = 4096;

/// The buffer is full: makes room to read more, growing it by doubling but
/// never past `limit` bytes from `start` (which may be below
/// [`INITIAL_BUFFER`]). False when `limit` bytes are buffered already.
pub(crate) fn grow_within(
    buf: &mut Vec<u8>,
    start: &mut usize,
    filled: &mut usize,
    limit: usize,
) -> bool {
    let used = *filled - *start;
    if used >= limit {
        return false;
    }
    let need = (used * 2).max(INITIAL_BUFFER).min(limit);
    make_room(buf, start, filled, need);
    true
}

/// Makes room so that `need` bytes from `start` fit: moves the unconsumed
/// bytes to the front if that is enough, else grows `buf` by doubling. The
/// caller has checked its limits.
fn make_room(buf: &mut Vec<u8>, start: &mut usize, filled: &mut usize, need: usize) {
    if *start > 0 && *start + need > buf.len() {
        buf.copy_within(*start..*filled, 0);
        *filled -= *start;
        *start = 0;
    }
    if need > buf.len() {
        let mut cap = buf.len().max(1);
        while cap < need {
            cap *= 2;
        }
        buf.resize(cap, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::{grow_within, make_room, INITIAL_BUFFER};

    #[test]
    fn compacts_then_grows() {
        let mut buf = b"..abc...".to_vec();
        let (mut start, mut filled) = (2, 5);
        make_room(&mut buf, &mut start, &mut filled, 7);
        assert_eq!((start, filled, &buf[..3]), (0, 3, &b"abc"[..]));
        assert_eq!(buf.len(), 8);
        make_room(&mut buf, &mut start, &mut filled, 20);
        assert_eq!(buf.len(), 32);
        assert_eq!(&buf[..3], b"abc");
    }

    #[test]
    fn grows_within_a_limit_below_the_initial_size() {
        // 4,000 bytes read, of which the request at 3,900 is 196 bytes long;
        // its limit (head and declared body) is 300.
        let mut buf = vec![0; INITIAL_BUFFER];
        let (mut start, mut filled) = (3900, INITIAL_BUFFER);
        assert!(grow_within(&mut buf, &mut start, &mut filled, 300));
        assert_eq!((start, filled), (0, 196));
        assert!(buf.len() - filled > 0, "room to read into");
        // At the limit: no growth.
        let (mut start, mut filled) = (0, 300);
        assert!(!grow_within(&mut buf, &mut start, &mut filled, 300));
    }

    #[test]
    fn grows_by_doubling_up_to_the_limit() {
        let mut buf = vec![0; INITIAL_BUFFER];
        let (mut start, mut filled) = (0, INITIAL_BUFFER);
        assert!(grow_within(&mut buf, &mut start, &mut filled, 6000));
        assert_eq!(buf.len(), 8192);
        let (mut start, mut filled) = (0, 8192);
        assert!(grow_within(&mut buf, &mut start, &mut filled, 1 << 20));
        assert_eq!(buf.len(), 16384);
    }
}
