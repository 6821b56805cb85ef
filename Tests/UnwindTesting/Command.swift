import Foundation

/// The outcome of running a program: exit status and what it printed.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var combined: String { stdout + stderr }
}

/// Runs a program to completion (posix_spawn + waitpid), with extra environment variables, capturing stdout
/// and stderr separately. Used to drive the real `unwind` binary and the test cluster script.
public func runCommand(
    _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
    removingEnvironment removed: Set<String> = []
) -> CommandOutput {
    var environment = ProcessInfo.processInfo.environment
    for key in removed { environment[key] = nil }
    for (key, value) in extra { environment[key] = value }
    let env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer {
        env.forEach { free($0) }
        argv.forEach { free($0) }
    }
    let outputFile = NSTemporaryDirectory() + "unwind-cmd-" + UUID().uuidString
    let errorFile = outputFile + ".err"
    defer {
        unlink(outputFile)
        unlink(errorFile)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    // Files, not pipes: a server started by the command may keep inherited pipes open forever.
    posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, env)
    guard spawned == 0 else {
        return CommandOutput(status: 127, stdout: "", stderr: "cannot run \(executable): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let stdout = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
    return CommandOutput(status: exitStatus, stdout: stdout, stderr: stderr)
}

/// Runs the built `unwind` binary.
public func runUnwind(_ arguments: [String], environment: [String: String] = [:]) -> CommandOutput {
    runCommand(TestEnvironment.binDirectory + "/unwind", arguments, environment: environment)
}
