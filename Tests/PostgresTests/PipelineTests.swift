import Foundation
import Postgres
import Testing
import UnwindTesting

/// Pipelined statements, queued statements and the `BEGIN` sent with a transaction's first statement.
@Suite("Pipelines and queued statements", .enabled(if: TestEnvironment.hasDatabase))
struct PipelineTests {
    static func itemCount(_ connection: PostgresConnection) throws -> Int? {
        try connection.query("SELECT count(*) AS n FROM items", name: "count_items").first?.decode("n", as: Int.self)
    }

    @Test func aPipelineReturnsEachStatementsResultInOrder() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let results = try connection.pipeline([
            PostgresStatement("INSERT INTO items VALUES ($1), ($2)", [1, 2], name: "insert_two"),
            PostgresStatement("SELECT id FROM items ORDER BY id", name: "list_items"),
            PostgresStatement("SELECT $1::text AS echo", ["plain"], name: nil),
        ])
        #expect(results.count == 3)
        #expect(results[0].affectedRows == 2)
        #expect(try results[1].rows.map { try $0.decode("id", as: Int.self) } == [1, 2])
        #expect(try results[2].first?.decode("echo", as: String.self) == "plain")
        // The prepared statements are known afterwards: the next pipeline uses them without preparing again.
        #expect(try connection.pipeline([PostgresStatement("SELECT id FROM items ORDER BY id", name: "list_items")])[0].rows.count == 2)
    }

    @Test func outsideATransactionAPipelineIsAllOrNothingAndTheFirstFailureIsThrown() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        try connection.query("INSERT INTO items VALUES (7)", name: "seed")
        let error = try #require(throws: PostgresError.self) {
            try connection.pipeline([
                PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_item"),
                PostgresStatement("INSERT INTO items VALUES ($1)", [7], name: "insert_item"),
                PostgresStatement("INSERT INTO items VALUES ($1)", [2], name: "insert_item"),
            ])
        }
        #expect(error.isUniqueViolation)
        #expect(error.statement == "insert_item")
        #expect(try Self.itemCount(connection) == 1, "the first insert is undone, the third never ran")
        // The connection is usable afterwards, in and out of pipeline mode.
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
        #expect(try connection.pipeline([PostgresStatement("SELECT 2 AS two", name: "two")])[0].first?.decode("two", as: Int.self) == 2)
    }

    /// A value PostgreSQL text cannot hold in a later statement is refused before anything is sent: it used to be
    /// found while sending, after the earlier statements had gone, and the sync point committed them.
    @Test func aRefusedParameterInALaterStatementSendsNothing() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY, note text)", name: "create")
        let error = try #require(throws: PostgresError.self) {
            try connection.pipeline([
                PostgresStatement("INSERT INTO items VALUES ($1, $2)", [1, "fine"], name: "insert_note"),
                PostgresStatement("INSERT INTO items VALUES ($1, $2)", [2, "nul\u{0}here"], name: "insert_note"),
            ])
        }
        #expect(error.code == .invalidParameter)
        #expect(try Self.itemCount(connection) == 0, "all or nothing")
        #expect(try connection.pipeline([PostgresStatement("SELECT 2 AS two", name: "two")])[0].first?.decode("two", as: Int.self) == 2)
    }

    @Test func aQueuedStatementIsSentWithTheNextOneAndSeenByIt() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let seen = try connection.transaction { connection in
            try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_item"))
            try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [2], name: "insert_item"))
            return try Self.itemCount(connection)
        }
        #expect(seen == 2)
        try connection.transaction { connection in
            try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [3], name: "insert_item"))
        }
        #expect(try Self.itemCount(connection) == 3, "a statement queued last is sent with the COMMIT")
    }

    @Test func aQueuedStatementThatFailsRollsTheTransactionBackAndIsNamed() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        try connection.query("INSERT INTO items VALUES (7)", name: "seed")
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert_item")
                try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [7], name: "insert_duplicate"))
            }
        }
        #expect(error.isUniqueViolation)
        #expect(error.statement == "insert_duplicate")
        #expect(try Self.itemCount(connection) == 1)
        // Nothing stays queued for the next transaction.
        try connection.transaction { connection in
            try connection.query("INSERT INTO items VALUES ($1)", [2], name: "insert_item")
        }
        #expect(try Self.itemCount(connection) == 2)
    }

    @Test func outsideATransactionAQueuedStatementRunsAtOnce() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_item"))
        #expect(try Self.itemCount(try PostgresConnection(configuration: connection.configuration)) == 1)
        #expect(throws: PostgresError.self) {
            try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_item"))
        }
    }

    @Test func theBeginGoesOutWithTheFirstStatementAndKeepsItsIsolationLevel() async throws {
        let connection = try await TestDatabase.create().connect()
        let level = try connection.transaction(isolation: .serializable) { connection in
            try connection.query("SHOW transaction_isolation", name: nil).first?.decode("transaction_isolation", as: String.self)
        }
        #expect(level == "serializable")
        // A transaction that sends nothing leaves no transaction open behind it.
        try connection.transaction { _ in }
        #expect(try connection.query("SHOW transaction_isolation", name: nil).first?.decode("transaction_isolation", as: String.self) == "read committed")
        let first = try connection.query("SELECT txid_current() AS xid", name: nil).first?.decode("xid", as: Int64.self)
        let second = try connection.query("SELECT txid_current() AS xid", name: nil).first?.decode("xid", as: Int64.self)
        #expect(first != second, "each statement is its own transaction: none is left open")
    }

    @Test func aTransactionInsideATransactionIsPartOfIt() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.transaction { connection in
                    try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert_item")
                }
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert_item")
            }
        }
        #expect(try Self.itemCount(connection) == 0, "the inner transaction did not commit on its own")
    }

    @Test func forgottenPreparedStatementsArePreparedAgainInAPipeline() async throws {
        let connection = try await TestDatabase.create().connect()
        let statement = PostgresStatement("SELECT $1::int + 1 AS next", [1], name: "next_number")
        #expect(try connection.pipeline([statement])[0].first?.decode("next", as: Int.self) == 2)
        // What a pooler in transaction mode, or DISCARD ALL, does to a session's prepared statements.
        try connection.executeScript("DEALLOCATE ALL", name: "deallocate")
        let results = try connection.transaction { connection in
            try connection.pipeline([statement, statement])
        }
        #expect(try results.map { try $0.first?.decode("next", as: Int.self) } == [2, 2])
    }

    @Test func aTerminatedBackendFailsThePipelineAsLostAndTheNextCallReconnects() async throws {
        let database = try await TestDatabase.create()
        let victim = try database.connect()
        try database.connect().query("SELECT pg_terminate_backend($1)", [Int(victim.backendPID)], name: "terminate")
        let error = try #require(throws: PostgresError.self) {
            try victim.transaction { connection in
                try connection.pipeline([PostgresStatement("SELECT 1", name: "one"), PostgresStatement("SELECT 2", name: "two")])
            }
        }
        #expect(error.isConnectionLost)
        let results = try victim.pipeline([PostgresStatement("SELECT 3 AS three", name: "three")])
        #expect(try results[0].first?.decode("three", as: Int.self) == 3)
    }

    @Test func commitAfterReturnsTheResultsOnceCommittedAndEndsTheTransaction() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let listed = try connection.transaction { connection -> [Int] in
            try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_item"))
            let results = try connection.commit(after: [PostgresStatement("SELECT id FROM items", name: "list_items")])
            // The transaction is over: another statement on this connection would run outside it.
            #expect(throws: PostgresError.self) { try connection.query("SELECT 1", name: "one") }
            #expect(throws: PostgresError.self) {
                try connection.enqueue(PostgresStatement("INSERT INTO items VALUES ($1)", [2], name: "insert_item"))
            }
            return try results[0].rows.map { try $0.decode("id", as: Int.self) }
        }
        #expect(listed == [1])
        #expect(try Self.itemCount(try PostgresConnection(configuration: connection.configuration)) == 1, "committed")
        // And the connection is back to normal afterwards.
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
    }

    @Test func aFailureInCommitAfterRollsBackEverything() async throws {
        let connection = try await TestDatabase.create().connect()
        try connection.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert_item")
                _ = try connection.commit(after: [PostgresStatement("INSERT INTO items VALUES ($1)", [1], name: "insert_again")])
            }
        }
        #expect(error.isUniqueViolation && error.statement == "insert_again")
        #expect(try Self.itemCount(connection) == 0)
        #expect(throws: PostgresError.self) { try connection.commit(after: []) }
    }

    @Test func aStatementAfterTheConnectionDiedInsideATransactionFailsInsteadOfRunningOutsideIt() async throws {
        let database = try await TestDatabase.create()
        let victim = try database.connect()
        try victim.executeScript("CREATE TABLE items (id int PRIMARY KEY)", name: "create")
        let killer = try database.connect()
        #expect(throws: PostgresError.self) {
            try victim.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", [1], name: "insert_item")
                let pid = connection.backendPID
                try killer.query("SELECT pg_terminate_backend($1)", [Int(pid)], name: "terminate")
                for _ in 0..<1000 {
                    let alive = try killer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1", [Int(pid)],
                                                 name: "alive").first?.decode("n", as: Int.self)
                    if alive == 0 { break }
                }
                _ = try? connection.query("INSERT INTO items VALUES ($1)", [2], name: "insert_item")  // lost; swallowed
                try connection.query("INSERT INTO items VALUES ($1)", [3], name: "insert_item")
            }
        }
        #expect(try Self.itemCount(victim) == 0, "nothing ran on a new session outside the transaction")
    }
}
