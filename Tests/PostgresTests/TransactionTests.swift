import Foundation
import Postgres
import Testing
import UnwindTesting

@Suite("Transactions and SQLSTATE errors", .enabled(if: TestEnvironment.hasDatabase))
struct TransactionTests {
    struct Boom: Error {}

    @Test func aThrownSwiftErrorRollsBack() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        #expect(throws: Boom.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert")
                throw Boom()
            }
        }
        let count = try connection.query("SELECT count(*) AS n FROM items", name: "count").first?.decode("n", as: Int.self)
        #expect(count == 0)
    }

    @Test func commitsWhatTheBodyWrote() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let inserted = try connection.transaction { connection in
            try connection.query("INSERT INTO items VALUES ($1), ($2)", [1, 2], name: "insert").affectedRows
        }
        #expect(inserted == 2)
        #expect(try connection.query("SELECT count(*) AS n FROM items", name: "count").first?.decode("n", as: Int.self) == 2)
    }

    @Test func aSwallowedStatementErrorIsReportedNotSilentlyRolledBack() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert")
                _ = try? connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert")
            }
        }
        #expect(error.code == .transactionAborted)
        #expect(try connection.query("SELECT count(*) AS n FROM items", name: "count").first?.decode("n", as: Int.self) == 0)
    }

    @Test func uniqueViolationIsTyped() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        try connection.query("INSERT INTO items VALUES ($1)", [7], name: "insert_item")
        let error = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO items VALUES ($1)", [7], name: "insert_item")
        }
        #expect(error.isUniqueViolation)
        #expect(error.sqlState == "23505")
        #expect(error.statement == "insert_item")
        #expect(error.detail?.contains("(id)=(7)") == true)
        #expect(!error.isTransient)
        // The connection stays usable after a server error.
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
    }

    @Test func serializationFailureIsTypedAndRetryable() async throws {
        let database = try await TestDatabase.create()
        let setup = try database.connect()
        try setup.executeScript("CREATE TABLE doctors (id int PRIMARY KEY, on_call boolean NOT NULL); INSERT INTO doctors VALUES (1, true), (2, true)", name: "create")
        let alice = try database.connect()
        let bob = try database.connect()
        // Classic write skew: both read two on-call doctors, each takes one off call; SERIALIZABLE refuses one.
        try alice.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE", name: "begin")
        try bob.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE", name: "begin")
        _ = try alice.query("SELECT count(*) FROM doctors WHERE on_call", name: "count_on_call")
        _ = try bob.query("SELECT count(*) FROM doctors WHERE on_call", name: "count_on_call")
        try alice.query("UPDATE doctors SET on_call = false WHERE id = $1", [1], name: "go_off_call")
        try bob.query("UPDATE doctors SET on_call = false WHERE id = $1", [2], name: "go_off_call")
        try alice.executeScript("COMMIT", name: "commit")
        let error = try #require(throws: PostgresError.self) { try bob.executeScript("COMMIT", name: "commit") }
        #expect(error.sqlState == "40001")
        #expect(error.isSerializationFailureOrDeadlock)
        #expect(error.isTransient)
    }

    @Test func poolRetriesSerializationFailures() async throws {
        let database = try await TestDatabase.create()
        let setup = try database.connect()
        try setup.executeScript("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)", name: "create")
        // The table belongs to the superuser that created it, so the pool connects as that user too.
        let pool = PostgresConnectionPool(configuration: try PostgresConfiguration(database.adminURL), maximumConnections: 4)
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            // Read-modify-write under SERIALIZABLE: concurrent increments conflict and must be retried.
            _ = try? pool.transaction(isolation: .serializable, maxAttempts: 100) { connection in
                let n = try connection.query("SELECT n FROM counter WHERE id = 1", name: "read").first!.decode("n", as: Int.self)
                try connection.query("UPDATE counter SET n = $1 WHERE id = 1", [n + 1], name: "write")
            }
        }
        #expect(try setup.query("SELECT n FROM counter", name: "read").first?.decode("n", as: Int.self) == 40)
    }
}
