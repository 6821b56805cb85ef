import Foundation
import Postgres
import Testing
import UnwindTesting

@Suite("TLS with certificate verification", .enabled(if: TestEnvironment.hasDatabase))
struct TLSTests {
    /// A CA, and a server certificate for `localhost` signed by it; plus an unrelated CA.
    static func makeCertificates() throws -> String {
        let directory = try TestEnvironment.makeScratchDirectory("tls")
        func openssl(_ arguments: [String]) throws {
            let result = runCommand("/usr/bin/openssl", arguments)
            guard result.status == 0 else { throw TestFailure(description: "openssl \(arguments.first ?? ""): \(result.combined)") }
        }
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Unwind Test CA",
                     "-keyout", directory + "/ca.key", "-out", directory + "/ca.crt"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                     "-keyout", directory + "/server.key", "-out", directory + "/server.csr"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", directory + "/ca.crt", "-CAkey", directory + "/ca.key",
                     "-CAcreateserial", "-days", "2", "-extfile", directory + "/san.ext", "-out", directory + "/server.crt"])
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Some Other CA",
                     "-keyout", directory + "/other.key", "-out", directory + "/other.crt"])
        for file in ["server.key", "server.crt"] { chmod(directory + "/" + file, 0o644) }
        return directory
    }

    @Test func verifyFullConnectsWithTheRightCAAndRefusesAWrongOne() async throws {
        let certificates = try Self.makeCertificates()
        let cluster = try PrivateCluster(tlsDirectory: certificates)
        let base = "postgres://postgres:unwind-test@localhost:\(cluster.port)/postgres"

        let verified = try PostgresConnection(configuration: try PostgresConfiguration(
            base + "?sslmode=verify-full&sslrootcert=\(certificates)/ca.crt"))
        let row = try #require(try verified.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", name: "ssl").first)
        #expect(try row.decode("ssl", as: Bool.self))

        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection(configuration: try PostgresConfiguration(
                base + "?sslmode=verify-full&sslrootcert=\(certificates)/other.crt"))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("certificate verify failed"), "\(error)")
        #expect(!error.description.contains("unwind-test"))

        // The CLI says the same in one line.
        let doctor = await runUnwind(["doctor", "--database-url", base + "?sslmode=verify-full&sslrootcert=\(certificates)/other.crt"])
        #expect(doctor.status == 5)
        #expect(doctor.stdout.contains("certificate verify failed"))
    }
}
