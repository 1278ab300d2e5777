#pragma once

namespace leakbench::measure {

/// True when a sanitizer (ASan, TSan) replaces malloc: glibc's statistics and tunables do not
/// apply, and shadow memory plus the free quarantine swamp RSS.
inline constexpr bool k_sanitized_malloc =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

}  // namespace leakbench::measure
