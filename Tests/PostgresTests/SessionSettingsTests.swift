import Foundation
import Postgres
import Testing
import UnwindTesting

/// Settings a configuration has every session apply: the workers' plan-once settings.
@Suite("Session settings", .enabled(if: TestEnvironment.hasDatabase))
struct SessionSettingsTests {
    static func setting(_ name: String, _ connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT current_setting($1) AS value", [name]).first?.decode("value", as: String.self)
    }

    @Test func planOnceSessionsPlanEachPreparedStatementOnceAndKeepTheSettingsAcrossAReconnect() async throws {
        let database = try await TestDatabase.create()
        var configuration = database.configuration
        #expect(!configuration.plansOnce)
        configuration.plansOnce = true
        #expect(configuration.plansOnce)
        let connection = try PostgresConnection(configuration: configuration)
        #expect(try Self.setting("plan_cache_mode", connection) == "force_generic_plan")
        #expect(try Self.setting("enable_seqscan", connection) == "off")
        // A statement taking an array: without the setting, every execution would be planned for its values.
        for count in 1...8 {
            try connection.query("SELECT count(*) AS n FROM unnest($1::int[]) AS t(id)", [Array(0..<count)], name: "count_ids")
        }
        let plans = try connection.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'count_ids'")
        #expect(try plans.first?.decode("generic_plans", as: Int.self) == 8)
        #expect(try plans.first?.decode("custom_plans", as: Int.self) == 0)

        try database.connect().query("SELECT pg_terminate_backend($1)", [Int(connection.backendPID)], name: "terminate")
        #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(try Self.setting("plan_cache_mode", connection) == "force_generic_plan")
        #expect(try Self.setting("enable_seqscan", connection) == "off")

        let plain = try PostgresConnection(configuration: database.configuration)
        #expect(try Self.setting("plan_cache_mode", plain) == "auto")
        #expect(try Self.setting("enable_seqscan", plain) == "on")
    }

    /// A generic plan is made from the statistics of its first execution. Made on a near-empty table it would be
    /// a sequential scan, kept while the table grows; with sequential scans off it is an index scan.
    @Test func aPlanMadeOnANearlyEmptyTableStillUsesTheIndexOnceTheTableIsFull() async throws {
        let database = try await TestDatabase.create()
        var configuration = try PostgresConfiguration(database.adminURL)
        configuration.plansOnce = true
        let connection = try PostgresConnection(configuration: configuration)
        try connection.executeScript("""
            CREATE TABLE items (owner uuid, id int, state text, PRIMARY KEY (owner, id));
            INSERT INTO items SELECT gen_random_uuid(), n, 'ready' FROM generate_series(1, 50) AS n;
            ANALYZE items;
            """, name: "setup")
        let owners = "{\(UUID().uuidString.lowercased())}"
        let itemsOf = "SELECT id FROM items WHERE owner = ANY($1::uuid[]) AND state = 'ready' FOR UPDATE"
        try connection.query(itemsOf, [owners], name: "items_of")  // planned now, on 50 rows
        try connection.executeScript(
            "INSERT INTO items SELECT gen_random_uuid(), n, 'ready' FROM generate_series(51, 20000) AS n", name: "fill")
        try connection.query(itemsOf, [owners], name: "items_of")
        let plan = try connection.query("EXPLAIN EXECUTE items_of('\(owners)')").rows
            .map { try $0.decode("QUERY PLAN", as: String.self) }.joined(separator: "\n")
        #expect(!plan.contains("Seq Scan"), "\(plan)")
        #expect(plan.contains("items_pkey"), "\(plan)")
    }

    @Test func aSettingTheServerRefusesFailsTheConnectionNamingIt() async throws {
        let database = try await TestDatabase.create()
        var configuration = database.configuration
        configuration.sessionSettings = [("plan_cache_mode", "sometimes")]
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(configuration: configuration) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("plan_cache_mode = sometimes"))
    }
}
