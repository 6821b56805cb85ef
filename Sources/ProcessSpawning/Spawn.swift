import Foundation

/// Starting child processes with `posix_spawn`, for the tools that supervise them (the embedded database, the
/// benchmark, the chaos run).
///
/// Foundation's `Process` is avoided on purpose: on Linux its exit monitoring can miss a child that exits while
/// another child lives on (`pg_ctl` leaves a server behind), and the supervisors must reap children themselves
/// to tell "killed by us" from "crashed".
public enum Spawn {
    /// Where a child's standard output or error goes. Standard input is always /dev/null.
    public enum Destination: Sendable, Equatable {
        case null
        /// A file opened for the child (mode 0600 when created).
        case file(String, append: Bool)
        /// A descriptor of this process (e.g. a pipe's write end), duplicated into the child.
        case descriptor(Int32)
        /// Whatever standard output goes to (only for standard error).
        case standardOutput
    }

    public struct Failure: Error, CustomStringConvertible {
        public var executable: String
        public var errorNumber: Int32
        public var description: String { "cannot run \(executable): \(String(cString: strerror(errorNumber)))" }
    }

    /// Starts `executable` and returns its pid without waiting.
    ///
    /// The child gets an empty signal mask and default signal dispositions: supervisors run on threads that
    /// block most signals, and a child inherits that mask (pgbench -T then never sees its SIGALRM; a worker
    /// never sees the SIGTERM that asks it to drain).
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil passes this process's on.
    ///   - closing: descriptors of this process the child must not keep (e.g. a pipe's read end).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        output: Destination, error: Destination = .standardOutput, closing: [Int32] = []
    ) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        redirect(1, to: output, &actions)
        redirect(2, to: error, &actions)
        for descriptor in closing { posix_spawn_file_actions_addclose(&actions, descriptor) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status: Int32
        if let environment {
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        } else {
            status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        guard status == 0 else { throw Failure(executable: executable, errorNumber: status) }
        return pid
    }

    private static func redirect(_ target: Int32, to destination: Destination, _ actions: inout posix_spawn_file_actions_t) {
        switch destination {
        case .null:
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
        case .file(let path, let append):
            posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o600)
        case .descriptor(let descriptor):
            posix_spawn_file_actions_adddup2(&actions, descriptor, target)
        case .standardOutput:
            posix_spawn_file_actions_adddup2(&actions, 1, target)
        }
    }

    /// Blocks until the child exits and returns its raw wait status.
    public static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// How a child ended, decoded from a wait status (WIFEXITED and WTERMSIG are macros Swift does not import).
    public enum Exit: Sendable, Equatable, CustomStringConvertible {
        case status(Int32)
        case signal(Int32)

        public init(waitStatus status: Int32) {
            let signal = status & 0x7f
            self = signal == 0 ? .status((status >> 8) & 0xff) : .signal(signal)
        }

        /// The shell's convention: the exit status, or 128 + the signal.
        public var code: Int32 {
            switch self {
            case .status(let code): code
            case .signal(let signal): 128 + signal
            }
        }

        public var description: String {
            switch self {
            case .status(let code): "exit status \(code)"
            case .signal(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            }
        }
    }
}
