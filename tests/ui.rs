//! The server attributes: every accepted form compiles, every misuse is a
//! compile error on the offending tokens (checked-in `.stderr` files).

#[test]
fn http_server_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/http_server_*.rs");
    t.compile_fail("tests/ui/http_server/*.rs");
}

#[test]
fn ws_server_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/ws_server_*.rs");
    t.compile_fail("tests/ui/ws_server/*.rs");
}

#[test]
fn ws_receive_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/ws_receive_*.rs");
    t.compile_fail("tests/ui/ws_receive/*.rs");
}

#[test]
fn ws_client_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/ws_client_*.rs");
    t.compile_fail("tests/ui/ws_client/*.rs");
}
