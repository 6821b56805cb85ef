#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The open-files limit of a long-running process (`unwind serve`, `unwind worker`).
///
/// Why: running out of descriptors does not just refuse connections. libdispatch, which runs the blocking database
/// calls, opens `/proc/<tid>/stat` to watch its thread pools and deliberately crashes the process when that open
/// fails; systemd's default soft limit is 1,024, which a thousand idle HTTP connections reach. The soft limit is
/// raised to the hard one (what Go's runtime does for every program), and the server accepts connections only up
/// to half of it.
enum OpenFilesLimit {
    /// Raises the soft limit to the hard limit (capped, since "unlimited" cannot be a soft limit everywhere) and
    /// returns the soft limit in force afterwards.
    @discardableResult
    static func raise() -> Int {
        #if os(Linux)
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        let target = min(limit.rlim_max, 1 << 20)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// How many HTTP connections a server holds at once: half the descriptors, the rest for the database pool,
    /// files and the thread pool's own use. Connections beyond wait in the listen backlog until one closes.
    static func maximumConnections(openFiles: Int) -> Int {
        max(32, min(10_000, openFiles / 2))
    }
}
