//! A multipart upload of any size is read in constant memory: 1 GiB
//! streamed from a generator through a raw socket grows this process's
//! resident memory (the server runs in it) by less than 16 MiB, sampled
//! all along the upload. A test binary of its own, so that no other test
//! allocates meanwhile.

mod support;

use guildenstern::multipart::{Event, MultipartError};
use guildenstern::prelude::*;
use std::io::Write;
use std::net::TcpStream;
use support::{resident_kib, Client, TestServer};

const UPLOAD: u64 = 1 << 30;
const ALLOWED_GROWTH_KIB: u64 = 16 * 1024;

/// Counts the bytes of each part; keeps nothing else.
fn count_parts() {
    let read = (|| -> Result<String, MultipartError> {
        let mut mp = multipart()?;
        let mut out = String::new();
        let mut n = 0u64;
        while let Some(event) = mp.next_event()? {
            match event {
                Event::Part(p) => {
                    out += &p.name();
                    n = 0;
                }
                Event::Data(d) => n += d.len() as u64,
                Event::PartEnd => out += &format!("={n};"),
            }
        }
        Ok(out)
    })();
    match read {
        Ok(s) => reply(s),
        Err(e) => reply_with(e.status(), e.to_string(), &[]),
    }
}

/// One block of file data: every byte value, CRLFs, and `--` runs that
/// are not the delimiter.
fn block() -> Vec<u8> {
    let mut b = Vec::with_capacity(64 * 1024);
    while b.len() < 64 * 1024 {
        b.extend_from_slice(b"\r\n--bound\r\n--");
        b.extend(0..=255u8);
    }
    b.truncate(64 * 1024);
    b
}

/// Sends a one-part upload of `size` bytes; `sample` runs every 64 MiB.
fn upload(stream: &mut TcpStream, size: u64, mut sample: impl FnMut()) {
    let head = "--boundary\r\nContent-Disposition: form-data; name=\"big\"; \
                filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    let tail = "\r\n--boundary--\r\n";
    let len = head.len() as u64 + size + tail.len() as u64;
    write!(
        stream,
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=boundary\r\n\
         Content-Length: {len}\r\n\r\n{head}"
    )
    .unwrap();
    let data = block();
    let mut left = size;
    let mut since_sample = 0;
    while left > 0 {
        let n = left.min(data.len() as u64) as usize;
        stream.write_all(&data[..n]).unwrap();
        left -= n as u64;
        since_sample += n;
        if since_sample >= 64 << 20 {
            since_sample = 0;
            sample();
        }
    }
    stream.write_all(tail.as_bytes()).unwrap();
}

#[test]
fn a_1_gib_upload_grows_resident_memory_by_less_than_16_mib() {
    let t = TestServer::start(
        HttpServer::new(count_parts)
            .content(Content::Streaming)
            .threads(2),
    );
    // Warm up the server, the reader and this process before measuring.
    let mut c = Client::connect(t.addr);
    let mut w = c.stream().try_clone().unwrap();
    upload(&mut w, 1 << 20, || {});
    assert_eq!(
        c.read_reply().expect("warm-up answer").text(),
        "big=1048576;"
    );

    let before = resident_kib();
    let mut peak = before;
    let writer = std::thread::spawn(move || {
        let mut peak = 0;
        upload(&mut w, UPLOAD, || peak = peak.max(resident_kib()));
        peak
    });
    let r = c.read_reply().expect("an answer");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), format!("big={UPLOAD};"));
    peak = peak.max(writer.join().unwrap()).max(resident_kib());
    let grown = peak.saturating_sub(before);
    assert!(
        grown < ALLOWED_GROWTH_KIB,
        "resident memory grew by {grown} KiB during a 1 GiB upload"
    );
}
