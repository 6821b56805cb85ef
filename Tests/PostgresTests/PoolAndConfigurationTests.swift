import Dispatch
import Foundation
import Postgres
import Synchronization
import Testing
import UnwindTesting

@Suite("Connection pool", .enabled(if: TestEnvironment.hasDatabase))
struct PoolTests {
    @Test func manyDispatchThreadsShareASmallPool() async throws {
        let database = try await TestDatabase.create()
        let pool = PostgresConnectionPool(configuration: database.configuration, maximumConnections: 4)
        let results = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let value = try? pool.withConnection { connection in
                try connection.query("SELECT $1::int + 1 AS next, pg_sleep(0.001)", [index], name: "next").first?.decode("next", as: Int.self)
            }
            results.withLock { $0.append((value ?? nil) ?? -1) }
        }
        #expect(results.withLock { $0.sorted() } == Array(1...64))
        #expect(pool.usage.opened <= 4)
        #expect(pool.usage.inUse == 0)
    }

    @Test func anExhaustedPoolSaysSoAfterItsTimeout() async throws {
        let database = try await TestDatabase.create()
        let pool = PostgresConnectionPool(configuration: database.configuration, maximumConnections: 1, acquireTimeout: .milliseconds(100))
        try pool.withConnection { _ in
            let error = try #require(throws: PostgresError.self) { try pool.withConnection { _ in } }
            #expect(error.code == .poolExhausted)
        }
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test func parsesURLsAndKeyValueStrings() async throws {
        let url = try PostgresConfiguration("postgres://app:s3cr%40t@db.example.com:6543/unwind?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url["host"] == "db.example.com")
        #expect(url["port"] == "6543")
        #expect(url["user"] == "app")
        #expect(url["password"] == "s3cr@t")
        #expect(url["dbname"] == "unwind")
        #expect(url["sslmode"] == "verify-full")
        #expect(url["sslrootcert"] == "/etc/ca.pem")
        #expect(!url.redactedDescription.contains("s3cr"))

        let socket = try PostgresConfiguration("postgresql://unwind@%2Fvar%2Frun%2Fpostgresql/unwind")
        #expect(socket["host"] == "/var/run/postgresql")
        let keyValue = try PostgresConfiguration("host=/tmp dbname=x user=y")
        #expect(keyValue["host"] == "/tmp")
        #expect(keyValue["connect_timeout"] == "10")
    }

    @Test(arguments: [
        "postgres://user:hunter2@host:notaport/db",
        "postgres://user:hunter2@host/db?nosuchoption=1",
        "host=x password=hunter2 junk",
        "postgres://localhost/unwind?password=hunter2%zz",
        "postgres://localhost/unwind?sslmode=disable&PASSWORD=hunter2&x=%",
        "   ",
    ])
    func rejectsMalformedInputWithoutPrintingThePassword(_ input: String) {
        #expect {
            try PostgresConfiguration(input)
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .invalidConfiguration && !error.description.contains("hunter2")
        }
    }
}
