//! Build-time check for Boundary's embedded engine.
//!
//! `boundary-engine` compiles llama.cpp from source, which needs cmake (llama.cpp's build) and
//! libclang (bindgen, for its C headers). Without them the failure comes from deep inside
//! `llama-cpp-sys-2`'s build script. This crate has only a build script, with no dependencies,
//! so cargo runs it at the very start of a build and stops with a message that names
//! `scripts/setup/build-tools.sh` before llama.cpp's build is even attempted.
//!
//! Set `BOUNDARY_SKIP_BUILD_CHECK=1` to skip the check (for toolchains it does not know about).
