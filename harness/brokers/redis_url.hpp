#pragma once

#include <string>
#include <string_view>

namespace leakbench::brokers {

/// Where a Redis server is and how to log in: `redis://[[user]:password@]host[:port][/db]` or
/// `unix://[[user]:password@]/path[?db=N]`, read as redis-py's from_url() reads them (the same
/// text is handed to Python clients): user, password and socket path percent-decoded.
struct redis_url {
  std::string host;      ///< TCP host, an IPv6 address without its brackets; empty for unix://
  int port = 6379;       ///< TCP port
  std::string socket;    ///< the Unix socket's path (unix://); empty for TCP
  std::string user;      ///< Redis 6 ACL user (AUTH user password); empty: the default user
  std::string password;  ///< empty: no AUTH
  int db = 0;

  /// True for a unix:// URL.
  bool is_unix() const { return !socket.empty(); }
  /// Parses the URL (scheme in any case; an IPv6 host in brackets: redis://[::1]:6379); throws
  /// std::invalid_argument naming what is wrong, never echoing a password. Refuses what
  /// redis-py would read differently (a raw '/' in a password, a query it would pass on, ...).
  static redis_url parse(std::string_view text);
  /// True if `text` starts with redis:// or unix://, in any case.
  static bool has_scheme(std::string_view text);
  /// `text` with anything between the scheme and the last @ replaced by :***, for messages
  /// about text that may not parse.
  static std::string mask(std::string_view text);
  /// The URL with the password masked, for messages: redis://[user:***@]host:port/db or
  /// unix://[user:***@]/path?db=N.
  std::string describe() const;
};

}  // namespace leakbench::brokers
