//! Cursors and time bounds from query strings: never panic, and what decodes round-trips.
#![no_main]

use kurz::domain::{parse_day, parse_end, parse_start, Cursor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cursor) = Cursor::decode(text) {
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }
    if let (Ok(start), Ok(end)) = (parse_start("from", text), parse_end("to", text)) {
        assert!(start <= end);
    }
    let _ = parse_day("from", text);
});
