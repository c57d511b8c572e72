//! Any text the network can deliver, fed to the Engine.IO / Socket.IO codec
//! that both the WASM client and the tests use. The codec is compiled in
//! from the app's own source file, so this fuzzes exactly what ships.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../src/engine_io.rs"]
#[allow(dead_code)]
mod engine_io;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        engine_io::fuzz_checks::check(text);
    }
});
