//! The `#[http_server]` attribute: every accepted form compiles, every misuse
//! is a compile error on the offending tokens (checked-in `.stderr` files).

#[test]
fn http_server_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/http_server/*.rs");
}
