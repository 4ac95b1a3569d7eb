//! Examples and integration tests of guildenstern.
