#include "harness/brokers/redis_url.hpp"

#include <fmt/format.h>
#include <sys/un.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace leakbench::brokers {
namespace {

constexpr std::string_view k_redis = "redis://", k_unix = "unix://";
constexpr int k_max_db = 1 << 20;
// What describe() writes as is in a user or a socket path besides letters and digits: RFC
// 3986's other unreserved characters and its sub-delimiters (Python's unquote() keeps '+').
constexpr std::string_view k_user_chars = "-._~!$&'()*+,;=";
constexpr std::string_view k_path_chars = "-._~!$&'()*+,;=:/";

bool starts_with_any_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {  // schemes are case-insensitive (RFC 3986)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

int parse_int(std::string_view text, const char* what, int min, int max) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < min || n > max) {
    throw std::invalid_argument(fmt::format("invalid {} '{}'", what, text));
  }
  return n;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict UTF-8, as Python decodes it: no overlong forms, surrogates or code points past U+10FFFF.
bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t more = 0;
    std::uint32_t cp = 0, min = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if ((lead & 0xe0) == 0xc0) {
      more = 1, cp = lead & 0x1fu, min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      more = 2, cp = lead & 0x0fu, min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      more = 3, cp = lead & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= more) return false;
    for (std::size_t k = 1; k <= more; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      cp = cp << 6 | (next & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += more + 1;
  }
  return true;
}

/// Percent-decodes a user, password or socket path as Python's unquote() does, refusing what
/// it would read otherwise: a stray '%' (kept as is there), bytes that are not UTF-8 (U+FFFD
/// there). Never echoes the text: it may be a password.
std::string decode(std::string_view text, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      throw std::invalid_argument(
          fmt::format("the {} has a '%' that is not followed by two hex digits", what));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (!is_utf8(out)) {
    throw std::invalid_argument(fmt::format("the {} is not UTF-8 once percent-decoded", what));
  }
  if (out.find('\0') != std::string::npos) {
    throw std::invalid_argument(fmt::format("the {} holds a NUL byte (%00)", what));
  }
  return out;
}

/// `text` with every byte but letters, digits and `keep` written as %XX.
std::string encode(std::string_view text, std::string_view keep) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool host_chars(std::string_view host, std::string_view others) {
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && others.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// host[:port][/db], or [ipv6][:port][/db].
void parse_tcp(redis_url& url, std::string_view authority, std::string_view tail) {
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("an IPv6 host is written in brackets: redis://[::1]:6379");
    }
    url.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      throw std::invalid_argument("an IPv6 host is written [address]:port");
    }
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    if (!url.host.empty() &&
        (!host_chars(url.host, ":.") || url.host.find(':') == std::string::npos)) {
      throw std::invalid_argument("the host in brackets is not an IPv6 address");
    }
  } else {
    const auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port = authority.substr(colon + 1);
    if (!host_chars(url.host, "-._")) {
      throw std::invalid_argument(
          "a host is a name or an address (letters, digits, '-', '.', '_'; IPv6 in brackets)");
    }
  }
  if (url.host.empty()) throw std::invalid_argument("a host is required: redis://host[:port]");
  if (has_port) url.port = parse_int(port, "port", 1, 65535);
  if (tail.find('?') != std::string_view::npos) {
    throw std::invalid_argument("a redis:// URL takes its db as /db and no ?query");
  }
  // "" and "/" are db 0, as redis-py reads them.
  if (tail.size() > 1) url.db = parse_int(tail.substr(1), "db", 0, k_max_db);
}

/// /path[?db=N], percent-decoded as redis-py does.
void parse_unix(redis_url& url, std::string_view authority, std::string_view tail) {
  // redis-py would connect to the path and ignore a host: refuse it instead.
  if (!authority.empty()) {
    throw std::invalid_argument("a unix:// URL has no host: unix:///path/to/redis.sock");
  }
  const auto query = tail.find('?');
  const std::string_view path = tail.substr(0, query);
  if (path.size() < 2) {
    throw std::invalid_argument("a socket path is required: unix:///path/to/redis.sock");
  }
  url.socket = decode(path, "socket path");
  // hiredis would cut a longer path short without a word.
  constexpr std::size_t k_max_path = sizeof(sockaddr_un::sun_path) - 1;
  if (url.socket.size() > k_max_path) {
    throw std::invalid_argument(fmt::format("the socket path is longer than {} bytes", k_max_path));
  }
  if (query == std::string_view::npos) return;
  const std::string_view args = tail.substr(query + 1);
  // Any other parameter redis-py would hand its connection as a keyword: refuse it.
  if (!args.starts_with("db=") || args.find('&') != std::string_view::npos) {
    throw std::invalid_argument("the only query a unix:// URL takes is ?db=N");
  }
  url.db = parse_int(args.substr(3), "db", 0, k_max_db);
}

}  // namespace

bool redis_url::has_scheme(std::string_view text) {
  return starts_with_any_case(text, k_redis) || starts_with_any_case(text, k_unix);
}

std::string redis_url::mask(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  // From the scheme on, or from the start if there is none before the @: never a password.
  std::size_t from = 0;
  if (const auto sep = text.find("://"); sep < at) {
    from = sep + 3;
  } else if (const auto colon = text.find(':'); colon < at) {
    from = colon + 1;
  }
  return fmt::format("{}:***@{}", text.substr(0, from), text.substr(at + 1));
}

redis_url redis_url::parse(std::string_view text) {
  const bool unix_socket = starts_with_any_case(text, k_unix);
  if (!unix_socket && !starts_with_any_case(text, k_redis)) {
    if (starts_with_any_case(text, "rediss://")) {
      throw std::invalid_argument("rediss:// (TLS) is not supported: use redis:// or unix://");
    }
    throw std::invalid_argument(fmt::format("'{}' is not a redis:// or unix:// URL", mask(text)));
  }
  // Python's urlsplit drops tabs and newlines anywhere and spaces at the ends: refuse them.
  for (char c : text) {
    if (c <= ' ' || c >= 0x7f) {
      throw std::invalid_argument(
          "a URL is printable ASCII: percent-encode anything else (%20 for a space)");
    }
  }
  std::string_view rest = text.substr(unix_socket ? k_unix.size() : k_redis.size());
  // As Python's urlsplit reads it: the authority ends at the first '/', '?' or '#', and the
  // user and password are what comes before its last '@', split at the first ':'.
  const auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  const std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (tail.find('@') != std::string_view::npos) {
    throw std::invalid_argument(
        "a '/', '?' or '#' in a user or password, or an '@' after the host, must be "
        "percent-encoded (%2F, %3F, %23, %40)");
  }
  if (tail.find('#') != std::string_view::npos) {
    throw std::invalid_argument("a URL here has no #fragment");
  }
  redis_url url;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      throw std::invalid_argument("credentials are written [user]:password@");
    }
    url.user = decode(userinfo.substr(0, colon), "user");
    url.password = decode(userinfo.substr(colon + 1), "password");
    if (url.password.empty()) throw std::invalid_argument("the password is empty");
    authority = authority.substr(at + 1);
  }
  if (unix_socket) {
    parse_unix(url, authority, tail);
  } else {
    parse_tcp(url, authority, tail);
  }
  return url;
}

std::string redis_url::describe() const {
  const std::string login =
      user.empty() && password.empty() ? "" : encode(user, k_user_chars) + ":***@";
  if (is_unix()) return fmt::format("unix://{}{}?db={}", login, encode(socket, k_path_chars), db);
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}{}:{}/{}", login, ipv6 ? "[" : "", host, ipv6 ? "]" : "", port,
                     db);
}

}  // namespace leakbench::brokers
