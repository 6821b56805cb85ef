import Foundation

/// CPU time of processes on this machine, from /proc (Linux), to tell whether the engine's client side or the
/// database server is what uses the cores during a measurement.
enum CPUUsage {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime (and, with `children`, the reaped children's cutime + cstime) of one process, in seconds.
    static func seconds(of pid: pid_t, children: Bool = false) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 15, let utime = Double(fields[11]), let stime = Double(fields[12]),
              let cutime = Double(fields[13]), let cstime = Double(fields[14]) else { return nil }
        return (utime + stime + (children ? cutime + cstime : 0)) / ticksPerSecond
    }

    static func parent(of pid: pid_t) -> pid_t? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PPid:") {
            return line.split(separator: "\t").last.flatMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    /// The whole PostgreSQL server, found from one backend's pid: the postmaster (with its reaped backends) plus
    /// its live children. nil when the server is not on this machine.
    static func serverSeconds(backendPID: pid_t) -> Double? {
        guard let comm = try? String(contentsOfFile: "/proc/\(backendPID)/comm", encoding: .utf8),
              comm.hasPrefix("postgres"), let postmaster = parent(of: backendPID),
              var total = seconds(of: postmaster, children: true) else { return nil }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), pid != postmaster, parent(of: pid) == postmaster else { continue }
            total += seconds(of: pid) ?? 0
        }
        return total
    }
}
