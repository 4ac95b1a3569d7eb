use guildenstern::prelude::*;
use guildenstern::ws::{UpgradeAnswer, UpgradeRequest};

fn check(_: &UpgradeRequest<'_>) -> UpgradeAnswer {
    UpgradeAnswer::Accept
}

#[ws_client(on_upgrade = check)]
fn got() {}

fn main() {}
