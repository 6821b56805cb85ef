import Foundation
import Postgres

/// A PostgreSQL cluster of a test's own (for tests that restart or stop the server), started through
/// scripts/pg-test-cluster.sh on a free loopback port, and removed when the test is done.
public final class PrivateCluster: Sendable {
    public let directory: String
    public let port: Int

    public init() throws {
        directory = try TestEnvironment.makeScratchDirectory("cluster")
        port = try Self.freePort()
        try script("start", String(port))
    }

    deinit {
        _ = runCommand(Self.scriptPath, ["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    public var url: String { "postgres://postgres:unwind-test@127.0.0.1:\(port)/postgres" }

    public func restart() throws { try script("restart") }
    public func stop() throws { try script("stop-fast") }
    public func start() throws { try script("start-again") }

    private func script(_ arguments: String...) throws {
        let result = runCommand(Self.scriptPath, [arguments[0], directory] + arguments.dropFirst())
        guard result.status == 0 else {
            throw PostgresError(code: .connectionFailed, message: "pg-test-cluster.sh \(arguments[0]) failed: \(result.combined)")
        }
    }

    private static var scriptPath: String { TestEnvironment.repositoryRoot + "/scripts/pg-test-cluster.sh" }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw PostgresError(code: .connectionFailed, message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
