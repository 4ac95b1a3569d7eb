mod ws_util;

use tungstenite::Message;

#[test]
fn echo_round_trip() {
    let server = ws_util::echo()
        .address("127.0.0.1")
        .any_port()
        .threads(2)
        .start()
        .unwrap();
    let (mut ws, resp) =
        tungstenite::connect(format!("ws://127.0.0.1:{}/", server.port())).unwrap();
    assert_eq!(resp.status(), 101);
    ws.send(Message::text("hello")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hello"));
    let big = vec![7u8; 200_000];
    ws.send(Message::binary(big.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(big));
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => {}
            Ok(m) => panic!("unexpected {m:?}"),
            Err(_) => break,
        }
    }
    server.stop();
    server.join();
}
