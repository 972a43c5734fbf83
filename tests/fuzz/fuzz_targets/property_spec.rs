//! Arbitrary text as a property spec: parsing returns a checked spec or an
//! error that names the file, never a panic.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = Path::new("fuzzed.toml");
    match eqcheck::properties::PropertySpec::parse(text, path) {
        Ok(spec) => {
            // A spec that parses must also yield its tolerance.
            let _ = spec.tolerance();
        }
        Err(error) => assert!(error.to_string().contains("fuzzed.toml"), "{error}"),
    }
});
