#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_runtime::__fuzz::jsonrpc(data));
