import Foundation

/// Runs a program to completion with `posix_spawn` and `waitpid`, capturing stdout and stderr together.
///
/// Foundation's `Process` is avoided here on purpose: on Linux its exit monitoring can miss a child that
/// exits while another child (e.g. a server started by `pg_ctl`) lives on, leaving `waitUntilExit` hanging.
enum ChildProcess {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ executable: String, _ arguments: [String], workingDirectory: String = "/") -> Result {
        var pipeDescriptors: [Int32] = [-1, -1]
        guard pipe(&pipeDescriptors) == 0 else {
            return Result(status: 127, output: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (pipeDescriptors[0], pipeDescriptors[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        // Run from a directory every user can enter: the server user must not inherit e.g. /root as its cwd.
        // (posix_spawn_file_actions_addchdir_np is not exposed to Swift on every glibc.)
        let shell = "/bin/sh"
        let command = [shell, "-c", "cd \"$0\" && exec \"$@\"", workingDirectory, executable] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawnStatus = posix_spawn(&pid, shell, &actions, nil, argv, environ)
        close(writeEnd)
        guard spawnStatus == 0 else {
            close(readEnd)
            return Result(status: 127, output: "cannot run \(executable): \(String(cString: strerror(spawnStatus)))")
        }

        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(readEnd)

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros; decode the wait status by hand.
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Result(status: exitStatus, output: text)
    }
}
