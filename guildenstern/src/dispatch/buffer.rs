//! The read buffer a protocol keeps per connection: `buf[start..filled]`
//! holds the bytes not yet consumed; the rest of `buf` is room to read into.
//! `buf` is fully initialised once, so reading into it needs no `unsafe`.

/// Makes room so that `need` bytes from `start` fit: moves the unconsumed
/// bytes to the front if that is enough, else grows `buf` by doubling. The
/// caller has checked its limits.
pub(crate) fn make_room(buf: &mut Vec<u8>, start: &mut usize, filled: &mut usize, need: usize) {
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
    use super::make_room;

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
}
