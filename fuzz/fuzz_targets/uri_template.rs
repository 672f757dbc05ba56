#![no_main]

// The shared parser alone, then the runtime's parse and match.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mcp_uri_template::parse(text.split('\n').next().unwrap_or_default());
    }
    mcp_runtime::__fuzz::uri_template(data);
});
