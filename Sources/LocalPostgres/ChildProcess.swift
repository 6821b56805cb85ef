import Foundation
import ProcessSpawning

/// Runs a program to completion, capturing stdout and stderr together.
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

        // Run from a directory every user can enter: the server user must not inherit e.g. /root as its cwd.
        // (posix_spawn_file_actions_addchdir_np is not exposed to Swift on every glibc.)
        let pid: pid_t
        do {
            pid = try Spawn.start(
                "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", workingDirectory, executable] + arguments,
                output: .descriptor(writeEnd), error: .descriptor(writeEnd), closing: [readEnd, writeEnd])
        } catch {
            close(readEnd)
            close(writeEnd)
            return Result(status: 127, output: "cannot run \(executable): \(String(cString: strerror(error.errorNumber)))")
        }
        close(writeEnd)

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

        let exit = Spawn.Exit(waitStatus: Spawn.waitForExit(pid))
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Result(status: exit.code, output: text)
    }
}
