#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_runtime::__fuzz::host_origin(data));
